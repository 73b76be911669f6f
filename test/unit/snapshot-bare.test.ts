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
 * Hash of the whole machine state (RAM, CPU, devices, virtual time including the time skipped
 * while halted). Exact for the PIT kernel too since device reads inside a decoded block see the
 * exact instruction count (Cpu.retired()); before that fix, a run split at another point took
 * the PIT's programming time from the block's start and drifted.
 */
function machineHash(m: Machine): number {
  const s = m.snapshot();
  // RAM pages in ascending order: the snapshot's Map order depends on the machine's history.
  const pages = new Map([...s.memory.pages].sort((x, y) => x[0] - y[0]));
  return crc32(encodeValue({ ...s, memory: { ...s.memory, pages }, eventSeq: 0 }));
}

function bareReference(image: Uint8Array) {
  let serial = '';
  const m = new Machine({ memoryBytes: 64 << 20, serial: (t) => { serial += t; } });
  m.load(image, MB);
  const result = m.run(200_000_000);
  return { serial, result, instructions: m.cpu.instructions, hash: machineHash(m) };
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
        expect(machineHash(b)).toBe(ref.hash);
      }
    });
  }
});

