// The debugger engine over the real machine: test/unit/debug-kernel.asm (assembled by vizor's
// assembler for its address map, checked byte for byte against NASM) and the pit-timer fixture.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { sourceInfo, type SourceInfo } from '../../src/debug/source.ts';
import { Machine } from '../../src/machine/machine.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
const SOURCE_FILE = join(import.meta.dirname, 'debug-kernel.asm');
const source = readFileSync(SOURCE_FILE, 'utf8');
let image: Uint8Array;
let info: SourceInfo;
let pitImage: Uint8Array;

function nasm(file: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-dbgm-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, file]);
  return new Uint8Array(readFileSync(out));
}

beforeAll(() => {
  const r = assemble(source, { fileName: 'debug-kernel.asm', provider: { read: (p) => readFileSync(join(KERNELS, p), 'utf8') } });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  image = nasm(SOURCE_FILE);
  expect(Buffer.compare(Buffer.from(r.bytes), Buffer.from(image))).toBe(0); // the map describes NASM's bytes
  info = sourceInfo(r.map);
  pitImage = nasm(join(KERNELS, 'pit-timer.asm'));
});

const L = (name: string): number => {
  const a = info.symbols.get(name);
  if (a === undefined) throw new Error(`no symbol ${name}`);
  return a;
};
/** 1-based line of the first source line containing `text`. */
const lineOf = (text: string): number => source.split('\n').findIndex((l) => l.includes(text)) + 1;

function boot(img = image, interval = 5000): { m: Machine; d: Debugger } {
  const m = new Machine({ memoryBytes: 16 << 20 });
  m.load(img, { kind: 'multiboot' });
  const d = new Debugger(m, { snapshotInterval: interval, snapshotOverhead: 0, lineMap: info.lineMap, symbols: info.symbols });
  return { m, d };
}

function machineHash(m: Machine): string {
  const s = m.snapshot();
  const h = createHash('sha256');
  h.update(JSON.stringify({ ...s, memory: undefined }, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));
  h.update(m.memory.ram);
  return h.digest('hex');
}

describe('breakpoints on the real machine', () => {
  it('linear, physical and file:line breakpoints stop before the instruction; conditions; hit counts', () => {
    const { d } = boot();
    const b1 = d.addBreakpoint({ location: { kind: 'linear', address: L('func') } });
    expect(d.continue()).toMatchObject({ reason: 'breakpoint', breakpointId: b1, eip: L('func') });
    expect(d.cpuState().edx).toBe(0);
    d.setEnabled(b1, false);
    const b2 = d.addBreakpoint({ location: { kind: 'physical', address: L('inner') } });
    expect(d.continue()).toMatchObject({ reason: 'breakpoint', breakpointId: b2, eip: L('inner') });
    const b3 = d.addBreakpoint({ location: { kind: 'line', file: 'debug-kernel.asm', line: lineOf('int 0x40') } });
    expect(d.continue()).toMatchObject({ reason: 'breakpoint', breakpointId: b3, eip: L('after_call') });
    const { d: d2 } = boot();
    d2.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') }, condition: 'eax == 2 && ecx == 1 && byte [var2] == 0x77' });
    expect(d2.continue().reason).toBe('breakpoint');
    expect(d2.cpuState()).toMatchObject({ eax: 2, ecx: 1 });
    const { d: d3 } = boot();
    d3.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') }, hitCondition: '3' });
    d3.continue();
    expect(d3.cpuState().eax).toBe(2);
  });
});

describe('stepping on the real machine', () => {
  it('step over CALL, INT n and REP STOSB; step out of a nested call and of an interrupt handler', () => {
    const { d } = boot();
    d.runTo({ address: L('call_site') });
    const esp = d.cpuState().esp;
    expect(d.stepOver()).toMatchObject({ reason: 'step', eip: L('after_call') });
    expect(d.cpuState()).toMatchObject({ edx: 1, esi: 1, esp });
    expect(d.stepOver()).toMatchObject({ reason: 'step', eip: L('after_int') });
    expect(d.cpuState().ebp).toBe(1);
    d.runTo({ address: L('rep_site') });
    expect(d.stepOver()).toMatchObject({ eip: L('after_rep') });
    expect([...d.readMemory(L('buf'), 17).bytes]).toEqual([...Array(16).fill(0x5a), 0]);
    const { d: d2 } = boot();
    d2.runTo({ address: L('inner') });
    expect(d2.stepOut()).toMatchObject({ eip: L('after_inner_call') });
    expect(d2.stepOut()).toMatchObject({ eip: L('after_call') });
    expect(d2.stepInto()).toMatchObject({ eip: L('int40') });
    expect(d2.stepOut()).toMatchObject({ eip: L('after_int') });
  });
  it('a REP STOSB steps one iteration at a time (as the CPU run(1) counts it)', () => {
    const { d } = boot();
    d.runTo({ address: L('rep_site') });
    d.stepInto();
    expect(d.cpuState()).toMatchObject({ eip: L('rep_site'), ecx: 15, edi: L('buf') + 1 });
  });
});

describe('watchpoints on the real machine', () => {
  it('write watch (linear) stops right after the store; physical watch inside a REP STOSB', () => {
    const { d } = boot();
    const w = d.addWatchpoint({ kind: 'write', address: L('var'), length: 4 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_store'), watch: { id: w, address: L('var') } });
    d.addWatchpoint({ kind: 'write', address: L('buf') + 5, length: 2, physical: true });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('rep_site') });
    expect(d.cpuState()).toMatchObject({ edi: L('buf') + 6, ecx: 10 });
  });
  it('read and access watches stop right after the reading / accessing instruction', () => {
    const { d } = boot();
    expect(d.cpuReportsAccesses).toBe(true);
    const a = d.addWatchpoint({ kind: 'access', address: L('var'), length: 4 });
    const r = d.addWatchpoint({ kind: 'read', address: L('var2') + 2, length: 1 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_store'), watch: { id: a, kind: 'access', address: L('var') } });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_load'), watch: { id: r, kind: 'read', address: L('var2') + 2 } });
    expect(d.cpuState().ebx).toBe(0x77);
    expect(d.listBreakpoints().watch.map((w) => w.hits)).toEqual([1, 1]);
  });
  it('a REP MOVSB reading a watched byte stops after that iteration, the REP still pending', () => {
    const { d } = boot();
    const w = d.addWatchpoint({ kind: 'read', address: L('buf') + 5, length: 1, physical: true });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('movs_site'), watch: { id: w, address: L('buf') + 5 } });
    expect(d.cpuState()).toMatchObject({ esi: L('buf') + 6, edi: L('buf') + 38, ecx: 2 });
    // the STOSB before wrote the byte (no read); the MOVSB's other iterations do not touch it
    expect(d.continue().reason).toBe('exited');
  });
  it('a PUSH writing a watched stack slot, and a write of the value already there', () => {
    const { d } = boot();
    d.runTo({ address: L('pf_handler') });
    const slot = (d.cpuState().esp - 4) >>> 0;
    const w = d.addWatchpoint({ kind: 'write', address: slot, length: 4 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('pf_handler') + 1, watch: { id: w, address: slot } });
    expect(d.cpuState().esp).toBe(slot);
    // same value: [var] already holds what the store writes (EAX = 3); only an access report sees it
    const { d: d2 } = boot();
    d2.runTo({ address: L('after_int') });
    expect(d2.cpuState().eax).toBe(3);
    expect(d2.writeMemory(L('var'), Uint8Array.of(3, 0, 0, 0))).toBe(true);
    d2.addWatchpoint({ kind: 'write', address: L('var'), length: 4 });
    expect(d2.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_store') });
  });
  it('a physical read watch under paging skips the faulting attempt and stops after the retried load', () => {
    const { d } = boot();
    d.addWatchpoint({ kind: 'read', address: 0x500010, length: 4, physical: true });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_fault'), watch: { kind: 'read', address: 0x500010 } });
    expect(d.cpuState().eax).toBe(0x1234);
    // linear: the same load through 0x400010
    const { d: d2 } = boot();
    d2.addWatchpoint({ kind: 'access', address: 0x400012, length: 1 });
    expect(d2.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_fault'), watch: { address: 0x400012 } });
  });
  it('a write watch on a PTE catches the accessed bit the page walk sets (a write no access report covers)', () => {
    const { d } = boot();
    d.runTo({ address: L('pf_iret') }); // the handler has mapped the page: PT1[0] = 0x500003
    const pte = 0x302000;
    expect([...d.readMemory(pte, 4).bytes]).toEqual([3, 0, 0x50, 0]);
    d.addWatchpoint({ kind: 'write', address: pte, length: 4 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_fault'), watch: { address: pte } });
    expect(d.readMemory(pte, 1).bytes[0]).toBe(0x23); // A set by the retried load's walk
  });
});

describe('event breakpoints for each kind the bare machine produces', () => {
  it('interrupt, mode, tlb, walk, exception, pagefault, io, console, shutdown', () => {
    const { d } = boot();
    const stopAt = (filter: Parameters<Debugger['addEventBreakpoint']>[0]) => {
      const id = d.addEventBreakpoint(filter);
      const s = d.continue();
      d.removeBreakpoint(id);
      expect(s, JSON.stringify(filter)).toMatchObject({ reason: 'event', breakpointId: id, event: { kind: filter.kind } });
      return s;
    };
    expect(stopAt({ kind: 'interrupt', where: { vector: 0x40, source: 'software' } }).eip).toBe(L('int40'));
    expect(stopAt({ kind: 'mode', where: { paging: true } }).eip).toBe(L('mode_site') + 3);
    expect(stopAt({ kind: 'walk', where: { linear: { min: 0x400000, max: 0x400fff } } }).eip).toBe(L('pf_handler'));
    expect(d.stepBack()).toMatchObject({ eip: L('fault_site') }); // the walk was the faulting load's
    const exc = stopAt({ kind: 'exception', where: { vector: 14 } });
    expect(exc).toMatchObject({ eip: L('pf_handler'), sub: 1 }); // same count as the faulting load
    expect(d.cpuState().cr2).toBe(0x400010);
    d.stepBack();
    const pf = stopAt({ kind: 'pagefault', where: { outcome: 'bare', linear: { min: 0x400000, max: 0x400fff } } });
    expect(pf).toMatchObject({ eip: L('pf_handler'), event: { errorCode: 0 } });
    stopAt({ kind: 'tlb', where: { op: 'invlpg' } });
    expect(stopAt({ kind: 'io', where: { port: 0x80, dir: 'out' } })).toMatchObject({ eip: L('after_out'), event: { value: 0x42 } });
    expect(stopAt({ kind: 'console', where: { text: 'e' } }).event).toMatchObject({ device: 'serial' });
    expect(stopAt({ kind: 'shutdown', where: { reason: 'debug-exit' } }).event).toMatchObject({ code: 0x22 });
    expect(d.console).toBe('dbg\ndone\n');
  });
  it('hardware interrupt (PIC) and halt, on the pit-timer fixture', () => {
    const { d } = boot(pitImage, 100_000);
    const h = d.addEventBreakpoint({ kind: 'halt' });
    const s1 = d.continue();
    expect(s1).toMatchObject({ reason: 'event', breakpointId: h });
    d.removeBreakpoint(h);
    const i = d.addEventBreakpoint({ kind: 'interrupt', where: { source: 'pic', vector: { min: 0x20, max: 0x2f } } });
    const s2 = d.continue();
    expect(s2).toMatchObject({ reason: 'event', breakpointId: i });
    expect(s2.instructions).toBeGreaterThanOrEqual(s1.instructions); // HLT retired; the IRQ wakes it
    expect(s2.eip).not.toBe(s1.eip);
    // stepping from a HLT lands on the first instruction of the handler that wakes the CPU,
    // where an event breakpoint on the interrupt stops too; stepping back goes to the HLT itself
    d.removeBreakpoint(i);
    const h2 = d.addEventBreakpoint({ kind: 'halt' });
    d.continue();
    d.removeBreakpoint(h2);
    expect(d.cpuState().halted).toBe(true);
    const stepped = d.stepInto();
    d.stepBack();
    expect(d.readMemory(d.pc(), 1).bytes[0]).toBe(0xf4);
    d.addEventBreakpoint({ kind: 'interrupt', where: { source: 'pic' } });
    expect(d.continue()).toMatchObject({ eip: stepped.eip, instructions: stepped.instructions });
  });
});

describe('a page fault, stepped into, through the handler and back out, then backwards', () => {
  it('steps into the fault, through the demand-paging handler, retries the load, and back again', () => {
    const { d } = boot();
    d.runTo({ address: L('fault_site') });
    const atFault = d.state();
    expect(d.stepInto()).toMatchObject({ eip: L('pf_handler'), instructions: atFault.instructions, sub: 1 });
    expect(d.readMemory(d.cpuState().esp, 4).bytes).toEqual(new Uint8Array([0, 0, 0, 0])); // error code 0: not present, read
    const trail: number[] = [];
    for (let s = d.stepInto(); s.eip !== L('fault_site'); s = d.stepInto()) trail.push(s.eip);
    expect(trail.at(-1)).toBe(L('pf_iret'));
    expect(d.stepInto().eip).toBe(L('after_fault'));
    expect(d.cpuState().eax).toBe(0x1234);
    // and back: through the IRET, the handler, to the faulting instruction and before it
    for (let i = 0; i < trail.length + 2; i++) d.stepBack();
    expect(d.state()).toMatchObject({ pc: L('pf_handler'), instructions: atFault.instructions });
    expect(d.stepBack()).toMatchObject({ eip: L('fault_site'), instructions: atFault.instructions });
    expect(d.stepBack().instructions).toBe(atFault.instructions - 1);
  });
});

describe('reverse execution on the real machine', () => {
  it('step back N then forward N gives the identical machine state (registers, memory, devices), at seeded random points', () => {
    let seed = 0xdeb06;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed % k;
    };
    const { m, d } = boot(image, 1000);
    const end = d.continue(1e9).instructions;
    for (let trial = 0; trial < 8; trial++) {
      d.goTo(200 + rand(end - 400));
      for (let i = rand(5); i > 0; i--) d.stepInto();
      const here = machineHash(m);
      const at = d.state().instructions;
      const n = 1 + rand(150);
      for (let i = 0; i < n; i++) d.stepBack();
      for (let i = 0; i < n; i++) d.stepInto();
      expect(d.state().instructions, `trial ${trial}`).toBe(at);
      expect(machineHash(m), `trial ${trial} at ${at}, N=${n}`).toBe(here);
    }
  });
  it('reverse continue lands on the previous breakpoint / watchpoint / event hit', () => {
    const { d } = boot(image, 700);
    const bp = d.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') } });
    const hits = [d.continue(), d.continue(), d.continue()].map((s) => s.instructions);
    d.setEnabled(bp, false);
    expect(d.continue().reason).toBe('exited');
    d.setEnabled(bp, true);
    expect(d.reverseContinue()).toMatchObject({ reason: 'breakpoint', instructions: hits[2], eip: L('loop_top') });
    expect(d.reverseContinue()).toMatchObject({ instructions: hits[1] });
    d.removeBreakpoint(bp);
    d.continue();
    d.addWatchpoint({ kind: 'write', address: L('var'), length: 4 });
    expect(d.reverseContinue()).toMatchObject({ reason: 'watchpoint', eip: L('after_store') });
    expect(d.continue().reason).toBe('exited');
    const rw = d.addWatchpoint({ kind: 'read', address: L('var2'), length: 4 });
    expect(d.reverseContinue()).toMatchObject({ reason: 'watchpoint', eip: L('after_load'), watch: { id: rw, kind: 'read' } });
    d.removeBreakpoint(rw);
    expect(d.continue().reason).toBe('exited');
    d.addEventBreakpoint({ kind: 'exception', where: { vector: 14 } });
    expect(d.reverseContinue()).toMatchObject({ reason: 'event', eip: L('pf_handler'), sub: 1 });
  });
});
