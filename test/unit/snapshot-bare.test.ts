// Snapshot round trips: run to completion vs. save at a seeded random instruction count, write the
// .vzs bytes, read them back into a fresh machine (or a fresh host's VM) and run on. The serial
// output must be identical and so must the final state (a hash of the whole machine snapshot /
// the VM's memory checksum and registers).
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { readImage } from '../../src/cli/image.ts';
import { encodeValue } from '../../src/migration/codec.ts';
import { crc32 } from '../../src/migration/crc32.ts';
import { loadMachineFile, restoreMachineInto, runMachineTo, saveMachine } from '../../src/migration/snapshot.ts';

const KERNELS = ['fixtures/migration/cpu-bound.asm', 'fixtures/migration/writer-small.asm', 'fixtures/kernels/pit-timer.asm'];
const MB = { kind: 'multiboot' as const, cmdline: 'k ' };

/** A small seeded generator (no Math.random: the points must be the same on every run). */
function points(seed: number, n: number, max: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(1 + (s % Math.max(1, max - 1)));
  }
  return out;
}

/**
 * Hash of the whole machine state. `withIdle = false` leaves out the time skipped while halted:
 * for a kernel that programs the PIT, that time depends on where Machine.run's budget splits the
 * run even without any snapshot (a port write inside a decoded block reads the clock as of the
 * block's start: cpu.ts adds the block's instructions after running it), a CPU-side bug reported
 * to the lead; the snapshot itself restores idleNs exactly (the VM tests and the other kernels
 * compare it).
 */
function machineHash(m: Machine, withIdle = true): number {
  const s = m.snapshot();
  return crc32(encodeValue({ ...s, eventSeq: 0, idleNs: withIdle ? s.idleNs : 0 }));
}

function bareReference(image: Uint8Array) {
  let serial = '';
  const m = new Machine({ memoryBytes: 64 << 20, serial: (t) => { serial += t; } });
  m.load(image, MB);
  const result = m.run(200_000_000);
  return { serial, result, instructions: m.cpu.instructions, hash: machineHash(m), hashNoIdle: machineHash(m, false) };
}

describe.concurrent('bare machine snapshot round trip', () => {
  for (const file of KERNELS) {
    it(file, async () => {
      const image = await readImage(file);
      const ref = bareReference(image);
      expect(ref.result.reason).toBe('debug-exit');
      for (const n of points(file.length * 7919, 3, ref.instructions)) {
        let before = '';
        const a = new Machine({ memoryBytes: 64 << 20, serial: (t) => { before += t; } });
        a.load(image, MB);
        expect(runMachineTo(a, n)).toBeNull();
        expect(a.cpu.instructions).toBe(n);
        const bytes = saveMachine(a, image, { image: file, boot: MB, memoryBytes: 64 << 20 });
        const { header, payload } = loadMachineFile(bytes);
        expect(header.instructions).toBe(n);
        let after = '';
        const b = new Machine({ memoryBytes: header.memoryBytes, serial: (t) => { after += t; } });
        b.load(payload.image, header.boot);
        restoreMachineInto(b, payload);
        const r = b.run(200_000_000);
        expect(r).toEqual(ref.result);
        expect(before + after).toBe(ref.serial);
        expect(b.cpu.instructions).toBe(ref.instructions);
        if (file.includes('pit-timer')) expect(machineHash(b, false)).toBe(ref.hashNoIdle);
        else expect(machineHash(b)).toBe(ref.hash);
      }
    });
  }
});

