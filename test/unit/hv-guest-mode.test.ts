// The CPU's guest-mode interface (src/machine/cpu/guest-mode.ts) with a fake hypervisor: which
// instructions consult the exit controls (with the right EIP and length), TLB misses going to the
// guest's translate, VMEXIT unwinding to the exception hook with EIP on the instruction, and
// interrupt acceptance handed to the hypervisor.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { VMEXIT_VECTOR, hostPageKindBits, type GuestMode, type GuestSite, type RingCompression } from '../../src/machine/cpu/guest-mode.ts';
import type { Descriptor } from '../../src/machine/cpu/segments.ts';
import type { Cpu } from '../../src/machine/cpu/cpu.ts';
import type { CpuMmu } from '../../src/machine/mmu.ts';

function flatImage(asm: string): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-guest-'));
  writeFileSync(join(dir, 'g.asm'), `bits 32\norg 0x100000\n${asm}\n`);
  execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'g.bin'), join(dir, 'g.asm')]);
  return new Uint8Array(readFileSync(join(dir, 'g.bin')));
}

class FakeGuest implements GuestMode {
  sites: GuestSite[] = [];
  translations = 0;
  exceptions: number[] = [];
  exitOn = '';
  instruction(cpu: Cpu, s: GuestSite): void {
    this.sites.push(s);
    if (s.op === this.exitOn) cpu.raise(VMEXIT_VECTOR);
  }
  exception(cpu: Cpu, vector: number): boolean {
    this.exceptions.push(vector);
    if (vector !== VMEXIT_VECTOR) return false;
    cpu.requestStop();
    return true;
  }
  translate(cpu: CpuMmu, lin: number): number {
    this.translations++;
    const page = lin >>> 12;
    return (page << 12) | 1 | 32 | hostPageKindBits(cpu, page); // identity, valid, writes allowed
  }
  interrupt(): void {}
}

const PROGRAM = `
  cpuid          ; 0x100000, 2 bytes
  mov dx, 0x80   ; 0x100002, 4 bytes
  out dx, al     ; 0x100006, 1 byte
  in al, 0x80    ; 0x100007, 2 bytes
  pushfd         ; 0x100009
  popfd          ; 0x10000a
  mov eax, cr0   ; 0x10000b, 3 bytes
  hlt            ; 0x10000e
`;

describe('guest mode in the CPU', () => {
  it('reports sensitive, privileged, I/O and CPUID instructions with their EIP and length', () => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    m.load(flatImage(PROGRAM), { kind: 'flat', address: 0x100000 });
    const g = new FakeGuest();
    m.cpu.guest = g;
    m.cpu.run(100);
    expect(g.sites.map((s) => [s.op, s.eip >>> 0, s.length])).toEqual([
      ['cpuid', 0x100000, 2], ['out', 0x100006, 1], ['in', 0x100007, 2], ['pushf', 0x100009, 1],
      ['popf', 0x10000a, 1], ['mov_from_cr', 0x10000b, 3], ['hlt', 0x10000e, 1],
    ]);
    expect(g.sites[1]).toMatchObject({ port: -1, ioSize: 1 });
    expect(g.sites[2]).toMatchObject({ port: 0x80, ioSize: 1 });
    expect(g.translations).toBeGreaterThan(0);
  });

  it('a VMEXIT leaves EIP on the instruction, not counted, and stops the run', () => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    m.load(flatImage(PROGRAM), { kind: 'flat', address: 0x100000 });
    const g = new FakeGuest();
    g.exitOn = 'out';
    m.cpu.guest = g;
    const before = m.cpu.instructions;
    expect(m.cpu.run(100)).toBe('stop');
    expect(m.cpu.eip >>> 0).toBe(0x100006);
    expect(m.cpu.instructions - before).toBe(2);
    expect(g.exceptions).toEqual([VMEXIT_VECTOR]);
  });

  it('a bare CPU (guest = null) never calls anything', () => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    m.load(flatImage(PROGRAM), { kind: 'flat', address: 0x100000 });
    expect(m.cpu.guest).toBeNull();
    expect(m.cpu.run(100)).toBe('halt');
    expect(m.cpu.eip >>> 0).toBe(0x10000f);
  });

  it('ring compression: descriptor reads go through the view (guest table, DPL 0 seen as 1); GDTR stays the CPU\'s', () => {
    const m = new Machine({ memoryBytes: 4 << 20 });
    m.load(flatImage(`
  mov ebx, 0x08
  lar eax, ebx        ; access rights of the loader's code segment, through the view
  sgdt [0x200000]     ; the CPU's own GDTR
  hlt
`), { kind: 'flat', address: 0x100000 });
    const cpu = m.cpu;
    const reads: number[] = [];
    const view: RingCompression = {
      gdtBase: cpu.gdtBase, gdtLimit: cpu.gdtLimit, idtBase: cpu.idtBase, idtLimit: cpu.idtLimit,
      compress(_c: CpuMmu, d: Descriptor) { reads.push(d.dpl); if (d.dpl === 0) d.hi |= 1 << 13; },
      stackRing: (cpl) => cpl, stackSelector: (ss) => ss, frameSelector: (cs) => cs,
    };
    cpu.gdtBase = 0x7f000; // where "the VMM's" table is: nothing there, nothing reads it
    cpu.rings = view;
    cpu.guest = new FakeGuest();
    expect(cpu.run(100)).toBe('halt');
    expect(reads).toEqual([0]); // the LAR read the loader's DPL-0 descriptor
    expect((cpu.regs[0]! >>> 13) & 3).toBe(1); // ... and saw it as DPL 1
    expect(m.memory.read32(0x200002)).toBe(0x7f000);
  });
});
