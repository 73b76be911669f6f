// A tiny flat 32-bit x86 subset machine for the debugger's unit tests (the real machine replaces
// it in the engine tests once it runs). Programs are assembled by NASM, so the bytes are real x86.
// Instructions: nop, mov r32,imm32, mov al/cl/dl/bl,imm8, inc/dec r32, push/pop r32, call rel32, ret, int imm8, iret,
// jmp rel8, loop rel8, mov [moffs],eax / mov eax,[moffs], hlt, cli, sti, out imm8,al, rep stosb.
// INT n: pushes eflags, cs (8), eip and jumps to the dword at IVT_BASE + 4*n; emits 'interrupt'.
// OUT 0xE9: console event (debugcon); OUT 0xF4: debug exit; OUT 0xE5: synthetic event number AL.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Emitter } from '../../src/trace/emitter.ts';
import type { EventKind } from '../../src/trace/schema.ts';
import type { DebugCpuState, DebugRunResult } from '../../src/debug/types.ts';

export const IVT_BASE = 0x800;
const seg = (selector: number) => ({ selector, base: 0, limit: 0xffffffff, access: 0xc93 | 0x400 });

export class FakeCpu {
  readonly regs = new Int32Array(9);
  readonly segBase = new Int32Array(8);
  eip = 0;
  eflags = 2;
  code32 = true;
  instructions = 0;
  halted = false;
  /** Advertises calls to hooks.memoryAccess (read/access watchpoints depend on it). */
  reportsMemoryAccess = false;
  hooks: { beforeInstruction?(cpu: never): boolean; memoryAccess?(l: number, p: number, size: number, w: boolean): void } | null = null;
  getState(): DebugCpuState {
    const r = this.regs;
    return {
      eax: r[0]! >>> 0, ecx: r[1]! >>> 0, edx: r[2]! >>> 0, ebx: r[3]! >>> 0, esp: r[4]! >>> 0, ebp: r[5]! >>> 0, esi: r[6]! >>> 0, edi: r[7]! >>> 0,
      eip: this.eip >>> 0, eflags: this.eflags, cs: seg(8), ss: seg(0x10), ds: seg(0x10), es: seg(0x10), fs: seg(0x10), gs: seg(0x10),
      cr0: 0x11, cr2: 0, cr3: 0, cr4: 0, halted: this.halted,
    };
  }
  setState(s: DebugCpuState): void {
    [s.eax, s.ecx, s.edx, s.ebx, s.esp, s.ebp, s.esi, s.edi].forEach((v, i) => (this.regs[i] = v));
    this.eip = s.eip;
    this.eflags = s.eflags;
    this.halted = s.halted;
  }
}

export class FakeMachine {
  readonly cpu = new FakeCpu();
  readonly emitter = new Emitter();
  readonly memory: { ram: Uint8Array; size: number; writeBytes(p: number, b: Uint8Array): void };
  private stopRequested = false;
  /** `out 0xE5, al` emits synthetic[al]. */
  synthetic: { kind: EventKind; vm: number; fields: object }[] = [];
  private exitCode: number | undefined;

  constructor(image: Uint8Array, org: number, entry = org, readonly reportAccesses = false) {
    this.cpu.reportsMemoryAccess = reportAccesses;
    const ram = new Uint8Array(0x20000);
    ram.set(image, org);
    this.memory = { ram, size: ram.length, writeBytes: (p, b) => ram.set(b, p) };
    this.cpu.eip = entry;
    this.cpu.regs[4] = 0x10000;
    this.emitter.now = () => this.cpu.instructions;
  }

  stop(): void {
    this.stopRequested = true;
  }

  snapshot(): unknown {
    const pages = new Map<number, Uint8Array>();
    for (let p = 0; p < this.memory.size; p += 4096) pages.set(p >>> 12, this.memory.ram.slice(p, p + 4096));
    const c = this.cpu;
    return { cpu: { regs: c.regs.slice(), eip: c.eip, eflags: c.eflags, instructions: c.instructions, halted: c.halted }, memory: { size: this.memory.size, pages }, exit: this.exitCode };
  }

  restore(s: unknown): void {
    const snap = s as { cpu: { regs: Int32Array; eip: number; eflags: number; instructions: number; halted: boolean }; memory: { pages: Map<number, Uint8Array> }; exit: number | undefined };
    this.cpu.regs.set(snap.cpu.regs);
    Object.assign(this.cpu, { eip: snap.cpu.eip, eflags: snap.cpu.eflags, instructions: snap.cpu.instructions, halted: snap.cpu.halted });
    for (const [n, bytes] of snap.memory.pages) this.memory.ram.set(bytes, n << 12);
    this.exitCode = snap.exit;
  }

  run(max = Infinity): DebugRunResult {
    this.stopRequested = false;
    const cpu = this.cpu;
    for (let i = 0; i < max; i++) {
      if (cpu.halted) return { reason: 'halted' };
      if (cpu.hooks?.beforeInstruction?.(cpu as never)) return { reason: 'stopped' };
      this.step();
      cpu.instructions++;
      if (this.exitCode !== undefined) return { reason: 'debug-exit', code: this.exitCode };
      if (this.stopRequested) {
        this.stopRequested = false;
        return { reason: 'stopped' };
      }
    }
    return { reason: 'instruction-limit' };
  }

  private read32(a: number): number {
    if (this.reportAccesses) this.cpu.hooks?.memoryAccess?.(a, a, 4, false);
    const r = this.memory.ram;
    return (r[a]! | (r[a + 1]! << 8) | (r[a + 2]! << 16) | (r[a + 3]! << 24)) >>> 0;
  }
  private write32(a: number, v: number): void {
    if (this.reportAccesses) this.cpu.hooks?.memoryAccess?.(a, a, 4, true);
    const r = this.memory.ram;
    for (let k = 0; k < 4; k++) r[a + k] = (v >>> (8 * k)) & 0xff;
  }
  private push(v: number): void {
    this.cpu.regs[4] = (this.cpu.regs[4]! - 4) | 0;
    this.write32(this.cpu.regs[4]! >>> 0, v);
  }
  private pop(): number {
    const v = this.read32(this.cpu.regs[4]! >>> 0);
    this.cpu.regs[4] = (this.cpu.regs[4]! + 4) | 0;
    return v;
  }

  private step(): void {
    const c = this.cpu;
    const m = this.memory.ram;
    const op = m[c.eip]!;
    const imm32 = () => this.read32(c.eip + 1);
    const rel8 = () => (m[c.eip + 1]! << 24) >> 24;
    if (op >= 0xb0 && op <= 0xb3) { const r = op - 0xb0; c.regs[r] = (c.regs[r]! & ~0xff) | m[c.eip + 1]!; c.eip += 2; return; }
    if (op >= 0xb8 && op <= 0xbf) { c.regs[op - 0xb8] = imm32(); c.eip += 5; return; }
    if (op >= 0x40 && op <= 0x47) { c.regs[op - 0x40] = (c.regs[op - 0x40]! + 1) | 0; c.eip += 1; this.zf(c.regs[op - 0x40]!); return; }
    if (op >= 0x48 && op <= 0x4f) { c.regs[op - 0x48] = (c.regs[op - 0x48]! - 1) | 0; c.eip += 1; this.zf(c.regs[op - 0x48]!); return; }
    if (op >= 0x50 && op <= 0x57) { c.eip += 1; this.push(c.regs[op - 0x50]!); return; }
    if (op >= 0x58 && op <= 0x5f) { c.eip += 1; c.regs[op - 0x58] = this.pop(); return; }
    switch (op) {
      case 0x90: c.eip += 1; return;
      case 0xe8: { const t = (c.eip + 5 + imm32()) >>> 0; this.push(c.eip + 5); c.eip = t; return; }
      case 0xc3: c.eip = this.pop(); return;
      case 0xcd: {
        const v = m[c.eip + 1]!;
        if (this.emitter.wants('interrupt')) this.emitter.emit('interrupt', { vector: v, source: 'software' });
        this.push(c.eflags); this.push(8); this.push(c.eip + 2);
        c.eip = this.read32(IVT_BASE + 4 * v);
        return;
      }
      case 0xcf: c.eip = this.pop(); this.pop(); c.eflags = this.pop(); return;
      case 0xeb: c.eip += 2 + rel8(); return;
      case 0xe2: c.regs[1] = (c.regs[1]! - 1) | 0; c.eip += 2 + (c.regs[1] !== 0 ? rel8() : 0); return;
      case 0xa3: this.write32(imm32(), c.regs[0]!); c.eip += 5; return;
      case 0xa1: c.regs[0] = this.read32(imm32()); c.eip += 5; return;
      case 0xf4: c.eip += 1; if (this.emitter.wants('halt')) this.emitter.emit('halt', { eip: c.eip - 1 }); c.halted = (c.eflags & 0x200) === 0; return;
      case 0xfa: c.eflags &= ~0x200; c.eip += 1; return;
      case 0xfb: c.eflags |= 0x200; c.eip += 1; return;
      case 0xe6: {
        const port = m[c.eip + 1]!;
        const al = c.regs[0]! & 0xff;
        c.eip += 2;
        if (port === 0xe9 && this.emitter.wants('console')) this.emitter.emit('console', { device: 'debugcon', text: String.fromCharCode(al) });
        if (port === 0xf4) this.exitCode = al;
        if (port === 0xe5) {
          // Synthetic events (the hypervisor's kinds, before the hypervisor exists).
          const ev = this.synthetic[al];
          if (ev && this.emitter.wants(ev.kind)) {
            this.emitter.vm = ev.vm;
            this.emitter.emit(ev.kind, ev.fields as never);
            this.emitter.vm = 0;
          }
        }
        return;
      }
      case 0xf3: // rep stosb, one iteration per instruction count (as QEMU's icount does)
        if (m[c.eip + 1] === 0xaa) {
          if (c.regs[1] === 0) { c.eip += 2; return; }
          if (this.reportAccesses) c.hooks?.memoryAccess?.(c.regs[7]!, c.regs[7]!, 1, true);
          m[c.regs[7]!] = c.regs[0]! & 0xff;
          c.regs[7] = c.regs[7]! + 1;
          c.regs[1] = c.regs[1]! - 1;
          if (c.regs[1] === 0) c.eip += 2;
          return;
        }
    }
    throw new Error(`fake cpu: opcode ${op.toString(16)} at ${c.eip.toString(16)}`);
  }

  private zf(v: number): void {
    this.cpu.eflags = v === 0 ? this.cpu.eflags | 0x40 : this.cpu.eflags & ~0x40;
  }
}

/** Assembles `source` with NASM (bits 32, flat binary) and returns bytes plus label addresses. */
export function nasm(source: string): { bytes: Uint8Array; labels: Map<string, number> } {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-dbg-'));
  writeFileSync(join(dir, 'p.asm'), source);
  execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'p.bin'), join(dir, 'p.asm')]);
  const labels = new Map<string, number>();
  // NASM's map file gives every label's address.
  writeFileSync(join(dir, 'm.asm'), `[map symbols ${join(dir, 'p.map')}]\n` + source);
  execFileSync('nasm', ['-f', 'bin', '-o', join(dir, 'm.bin'), join(dir, 'm.asm')]);
  const map = readFileSync(join(dir, 'p.map'), 'utf8');
  for (const m of map.matchAll(/^\s*([0-9A-F]+)\s+[0-9A-F]+\s+(\S+)$/gm)) labels.set(m[2]!, parseInt(m[1]!, 16));
  return { bytes: new Uint8Array(readFileSync(join(dir, 'p.bin'))), labels };
}
