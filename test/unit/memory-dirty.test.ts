// Incremental memory snapshots: after the first (full) snapshot, saveSnapshot copies only pages
// written since and shares the others' arrays; loadSnapshot rewrites only what differs. Checked
// against a full scan of RAM done here, on Memory's own write paths and on real kernels whose
// writes go through the CPU's TLB fast path (T_CLEAN), REP string bulk copies, paging, interrupt
// frames, and the debugger's reporting path.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Machine } from '../../src/machine/machine.ts';
import { Memory, type MemorySnapshot } from '../../src/machine/memory.ts';

/** The non-zero pages of RAM, as a fresh full scan sees them. */
function scan(mem: Memory): Map<number, string> {
  const out = new Map<number, string>();
  const words = new Int32Array(mem.ram.buffer);
  for (let p = 0; p < mem.size >>> 12; p++) {
    for (let k = p << 10; k < (p + 1) << 10; k++) {
      if (words[k] !== 0) {
        out.set(p, Buffer.from(mem.ram.subarray(p << 12, (p + 1) << 12)).toString('base64'));
        break;
      }
    }
  }
  return out;
}

function asScan(s: MemorySnapshot): Map<number, string> {
  return new Map([...s.pages].map(([p, b]) => [p, Buffer.from(b).toString('base64')]));
}

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
function nasm(file: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-dirty-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, file]);
  return new Uint8Array(readFileSync(out));
}

describe('Memory: incremental snapshots', () => {
  it('copies only written pages, shares the rest, and restores exactly', () => {
    const mem = new Memory(1 << 20);
    mem.write32(0x1000, 0xdeadbeef);
    mem.writeBytes(0x5ffe, Uint8Array.of(1, 2, 3, 4)); // across a page end
    const s1 = mem.saveSnapshot();
    expect(asScan(s1)).toEqual(scan(mem));
    mem.write8(0x1004, 7);
    mem.ram[0x9000] = 9; // a direct write, declared
    mem.markDirty(0x9000, 1);
    mem.write32(0x5ffe, 0); // page 5 back to zeros in part; page 6 keeps bytes
    const s2 = mem.saveSnapshot();
    expect(asScan(s2)).toEqual(scan(mem));
    expect(s2.pages.get(1)).not.toBe(s1.pages.get(1)); // written: a new copy
    const s3 = mem.saveSnapshot();
    for (const [p, bytes] of s3.pages) expect(bytes, `page ${p}`).toBe(s2.pages.get(p)); // nothing written: all shared
    mem.write16(0x9000, 0); // page 9 all zeros again
    const s4 = mem.saveSnapshot();
    expect(s4.pages.has(9)).toBe(false);
    expect(asScan(s4)).toEqual(scan(mem));
    const reference = [s1, s2, s4].map(asScan);
    for (const [k, s] of [[0, s1], [2, s4], [1, s2], [0, s1]] as const) {
      mem.write8(0x20000 + k, 0x55); // dirty a page no snapshot has
      mem.loadSnapshot(s);
      expect(scan(mem), `restore ${k}`).toEqual(reference[k]);
    }
  });
});

describe('Machine: snapshots while the CPU writes through its TLB', () => {
  it('the memory-heavy bench kernel: every snapshot equals a full scan; restores are exact', () => {
    const m = new Machine({ memoryBytes: 16 << 20 });
    m.load(nasm(join(import.meta.dirname, '../../fixtures/bench/memory.asm')), { kind: 'multiboot' });
    const taken: { snap: ReturnType<Machine['snapshot']>; ram: Map<number, string> }[] = [];
    for (let i = 0; i < 12; i++) {
      m.run(150_000 + i * 7919);
      const snap = m.snapshot();
      const ram = scan(m.memory);
      expect(asScan(snap.memory), `snapshot ${i}`).toEqual(ram);
      taken.push({ snap, ram });
    }
    for (const k of [3, 11, 0, 7]) {
      m.restore(taken[k]!.snap);
      expect(scan(m.memory), `restore ${k}`).toEqual(taken[k]!.ram);
      m.run(100_000);
      const snap = m.snapshot();
      expect(asScan(snap.memory), `after restore ${k}`).toEqual(scan(m.memory));
    }
  });
  it('the debugger test kernel (paging, #PF, interrupt frames, REP STOS/MOVS), with and without reporting hooks', () => {
    for (const reporting of [false, true]) {
      const m = new Machine({ memoryBytes: 16 << 20 });
      m.load(nasm(join(import.meta.dirname, 'debug-kernel.asm')), { kind: 'multiboot' });
      if (reporting) m.cpu.hooks = { beforeInstruction: () => false, memoryAccess: () => {} };
      let last = m.snapshot();
      for (let i = 0; i < 400; i++) {
        const r = m.run(97);
        const snap = m.snapshot();
        expect(asScan(snap.memory), `reporting=${reporting} step ${i}`).toEqual(scan(m.memory));
        last = snap;
        if (r.reason !== 'instruction-limit') break;
      }
      expect(last.memory.pages.size).toBeGreaterThan(3);
    }
  });
});
