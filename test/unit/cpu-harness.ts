// Shared by the cpu-*.test.ts files: a bare CPU + memory + port stub, NASM assembly of snippets,
// and a flat 32-bit protected-mode setup (descriptor caches loaded directly, GDT in memory).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Cpu } from '../../src/machine/cpu/cpu.ts';
import { Memory } from '../../src/machine/memory.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import type { IoBus, PortHandler } from '../../src/machine/bus.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

export class StubIo implements IoBus {
  writes: { port: number; size: number; value: number }[] = [];
  onWrite: ((port: number, value: number) => void) | null = null;
  register(_f: number, _c: number, _h: PortHandler, _o: string): void {}
  read(_port: number, size: 1 | 2 | 4): number {
    return size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  }
  write(port: number, size: 1 | 2 | 4, value: number): void {
    this.writes.push({ port, size, value });
    this.onWrite?.(port, value);
  }
}

export function makeCpu(memBytes = 8 << 20) {
  const memory = new Memory(memBytes);
  const io = new StubIo();
  const emitter = new Emitter();
  const cpu = new Cpu(memory, io, emitter);
  const events: TraceEvent[] = [];
  emitter.listen({ mask: 0xffff & ~(1 << 6) & ~(1 << 7), onEvent: (e) => events.push(e) });
  return { cpu, memory, io, emitter, events };
}

/** Assembles NASM source (a `bits`/`org` header is added) to flat bytes. */
export function assemble(src: string, bits: 16 | 32 = 32, org = 0x10000): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-cpu-'));
  try {
    writeFileSync(join(dir, 'a.asm'), `bits ${bits}\norg 0x${org.toString(16)}\n${src}\n`);
    execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'a.bin'), join(dir, 'a.asm')], { stdio: 'pipe' });
    return new Uint8Array(readFileSync(join(dir, 'a.bin')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const GDT_BASE = 0x800;
/** Flat GDT: 0x08 code0, 0x10 data0, 0x18 code3, 0x20 data3, 0x28 TSS (at 0x900), 0x30 16-bit code0. */
export function writeFlatGdt(memory: Memory): void {
  const d = (i: number, lo: number, hi: number) => {
    memory.write32(GDT_BASE + i * 8, lo);
    memory.write32(GDT_BASE + i * 8 + 4, hi);
  };
  d(0, 0, 0);
  d(1, 0x0000ffff, 0x00cf9a00);
  d(2, 0x0000ffff, 0x00cf9200);
  d(3, 0x0000ffff, 0x00cffa00);
  d(4, 0x0000ffff, 0x00cff200);
  d(5, (0x900 << 16) | 0x67, 0x00008900);
  d(6, 0x0000ffff, 0x00009a00);
}

/** Puts the CPU in flat 32-bit ring-0 protected mode at `eip` (GDT written, caches loaded). */
export function flat32(cpu: Cpu, memory: Memory, eip = 0x10000, esp = 0x80000): void {
  writeFlatGdt(memory);
  const st = cpu.getState();
  const code = { selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc9b };
  const data = { selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc93 };
  cpu.setState({
    ...st,
    eip,
    esp,
    eflags: 2,
    cs: code,
    ss: data,
    ds: data,
    es: data,
    fs: data,
    gs: data,
    gdtr: { base: GDT_BASE, limit: 7 * 8 - 1 },
    ldtr: { selector: 0, base: 0, limit: 0, access: 0x82 },
    cr0: 0x11,
  });
}

/** Assembles `src` at 0x10000 in flat 32-bit mode, runs until HLT (or `max` instructions). */
export function run32(src: string, max = 100000, setup?: (cpu: Cpu, memory: Memory) => void) {
  const h = makeCpu();
  const code = assemble(src + '\nhlt\n', 32, 0x10000);
  h.memory.writeBytes(0x10000, code);
  flat32(h.cpu, h.memory);
  setup?.(h.cpu, h.memory);
  const reason = h.cpu.run(max);
  return { ...h, reason, state: h.cpu.getState() };
}

/**
 * NASM prelude for protected-mode tests: an IDT at 0x1000 (LIDT done), `GATE vec, handler, type`
 * to fill an entry (type 0x8E interrupt gate DPL 0, 0xEE DPL 3, 0x8F trap gate), and a TSS at
 * 0x900 (selector 0x28, loaded) with SS0:ESP0 = 0x10:0x70000.
 */
export const PM_PRELUDE = `
%macro GATE 3
    mov eax, %2
    mov word [0x1000 + (%1) * 8], ax
    mov word [0x1000 + (%1) * 8 + 2], 0x08
    mov byte [0x1000 + (%1) * 8 + 4], 0
    mov byte [0x1000 + (%1) * 8 + 5], %3
    shr eax, 16
    mov word [0x1000 + (%1) * 8 + 6], ax
%endmacro
    jmp prelude_start
idtr: dw 0x7ff
      dd 0x1000
prelude_start:
    lidt [idtr]
    mov dword [0x904], 0x70000
    mov dword [0x908], 0x10
    mov word [0x966], 0x68
    mov ax, 0x28
    ltr ax
`;
