// The debugger engine over a small NASM-assembled program on the fake machine (debug-fake-machine.ts):
// every breakpoint/watchpoint kind stops at the exact instruction, conditions, step over/out,
// event breakpoints, reverse execution.
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { Debugger } from '../../src/debug/debugger.ts';
import { FakeMachine, IVT_BASE, nasm } from './debug-fake-machine.ts';

const SOURCE = `
bits 32
org 0x1000
start:
    mov esp, 0x9000
    mov eax, 0
    mov ecx, 3
loop_top:
    inc eax
    loop loop_top
call_site:
    call func
after_call:
    int 0x30
after_int:
    mov [0x5000], eax
after_store:
    mov eax, [0x5004]
after_load:
    mov edi, 0x6000
    mov ecx, 4
    mov eax, 0x41
rep_site:
    rep stosb
after_rep:
    out 0xe9, al
after_out:
    mov eax, 7
    out 0xf4, al
    hlt
func:
    inc edx
    call inner
after_inner_call:
    ret
inner:
    inc ebx
    nop
    ret
handler:
    inc esi
    iret
`;

let prog: { bytes: Uint8Array; labels: Map<string, number> };
const L = (name: string) => {
  const a = prog.labels.get(name);
  if (a === undefined) throw new Error(`no label ${name}`);
  return a;
};

function boot(opts: { reportAccesses?: boolean; interval?: number } = {}): { m: FakeMachine; d: Debugger } {
  const m = new FakeMachine(prog.bytes, 0x1000, 0x1000, opts.reportAccesses ?? false);
  new DataView(m.memory.ram.buffer).setUint32(IVT_BASE + 4 * 0x30, L('handler'), true);
  const d = new Debugger(m, { snapshotInterval: opts.interval ?? 4, snapshotOverhead: 0, lineMap: [...prog.labels].map(([, address], i) => ({ address, file: 'k.asm', line: 10 + i })) });
  return { m, d };
}

beforeAll(() => {
  prog = nasm(SOURCE);
});

describe('breakpoints', () => {
  it('linear, physical and line breakpoints stop before the instruction', () => {
    const { d } = boot();
    const b1 = d.addBreakpoint({ location: { kind: 'linear', address: L('func') } });
    let s = d.continue();
    expect(s).toMatchObject({ reason: 'breakpoint', breakpointId: b1, eip: L('func') });
    expect(d.cpuState().edx).toBe(0); // not yet executed
    d.removeBreakpoint(b1);
    const b2 = d.addBreakpoint({ location: { kind: 'physical', address: L('inner') } });
    s = d.continue();
    expect(s).toMatchObject({ reason: 'breakpoint', breakpointId: b2, eip: L('inner') });
    d.setEnabled(b2, false);
    const lineOfHandler = 10 + [...prog.labels.keys()].indexOf('handler');
    const b3 = d.addBreakpoint({ location: { kind: 'line', file: 'k.asm', line: lineOfHandler } });
    s = d.continue();
    expect(s).toMatchObject({ reason: 'breakpoint', breakpointId: b3, eip: L('handler') });
    expect(() => d.addBreakpoint({ location: { kind: 'line', file: 'k.asm', line: 9999 } })).toThrow(/no code at or after k.asm:9999/);
  });

  it('conditions and hit counts', () => {
    let { d } = boot();
    d.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') }, condition: 'eax == 2 && ecx == 1' });
    let s = d.continue();
    expect(s.reason).toBe('breakpoint');
    expect(d.cpuState()).toMatchObject({ eax: 2, ecx: 1 });
    ({ d } = boot());
    const id = d.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') }, hitCondition: '2' });
    s = d.continue();
    expect(s.breakpointId).toBe(id);
    expect(d.cpuState().eax).toBe(1);
    expect(d.listBreakpoints().code[0]!.hits).toBe(2);
    expect(() => d.addBreakpoint({ location: { kind: 'linear', address: 0 }, condition: 'eax ==' })).toThrow(/column 7/);
  });

  it('pause stops a run at the next boundary; the state knows the source line', () => {
    const { d } = boot();
    d.pause();
    expect(d.continue()).toMatchObject({ reason: 'pause', instructions: 0 });
    d.runTo({ address: L('func') });
    expect(d.state().line).toEqual({ file: 'k.asm', line: 10 + [...prog.labels.keys()].indexOf('func') });
  });

  it('runs to an address and to completion', () => {
    const { d } = boot();
    expect(d.runTo({ address: L('after_int') })).toMatchObject({ reason: 'step', eip: L('after_int') });
    expect(d.continue()).toMatchObject({ reason: 'exited', exitCode: 7 });
    expect(d.console).toBe('A');
  });
});

describe('stepping', () => {
  it('step into takes one instruction, into calls', () => {
    const { d } = boot();
    d.runTo({ address: L('call_site') });
    expect(d.stepInto()).toMatchObject({ reason: 'step', eip: L('func') });
  });
  it('step over a CALL, an INT and a REP string op', () => {
    const { d } = boot();
    d.runTo({ address: L('call_site') });
    expect(d.stepOver()).toMatchObject({ reason: 'step', eip: L('after_call') });
    expect(d.cpuState()).toMatchObject({ edx: 1, ebx: 1, esp: 0x9000 });
    expect(d.stepOver()).toMatchObject({ reason: 'step', eip: L('after_int') });
    expect(d.cpuState().esi).toBe(1);
    d.runTo({ address: L('rep_site') });
    const s = d.stepOver();
    expect(s).toMatchObject({ reason: 'step', eip: L('after_rep') });
    expect([...(d.readMemory(0x6000, 5).bytes)]).toEqual([0x41, 0x41, 0x41, 0x41, 0]);
  });
  it('step over LOOP runs the loop out; a breakpoint inside still stops it', () => {
    const { d } = boot();
    d.runTo({ address: L('loop_top') });
    d.stepInto(); // inc eax
    expect(d.stepOver()).toMatchObject({ eip: L('call_site') });
    const { d: d2 } = boot();
    d2.runTo({ address: L('call_site') });
    d2.addBreakpoint({ location: { kind: 'linear', address: L('inner') } });
    expect(d2.stepOver()).toMatchObject({ reason: 'breakpoint', eip: L('inner') });
  });
  it('step out returns to the caller of the current function, past nested calls', () => {
    const { d } = boot();
    d.runTo({ address: L('func') });
    expect(d.stepOut()).toMatchObject({ reason: 'step', eip: L('after_call') });
    const { d: d2 } = boot();
    d2.runTo({ address: L('inner') });
    expect(d2.stepOut()).toMatchObject({ eip: L('after_inner_call') });
    d2.runTo({ address: L('handler') });
    expect(d2.stepOut()).toMatchObject({ eip: L('after_int') }); // IRET ends the handler
  });
});

describe('watchpoints', () => {
  for (const reportAccesses of [false, true]) {
    it(`write watch stops right after the writing instruction (${reportAccesses ? 'access hook' : 'value compare'})`, () => {
      const { d } = boot({ reportAccesses });
      const w = d.addWatchpoint({ kind: 'write', address: 0x4fff, length: 2 }); // byte 0x5000 changes (eax=3)
      const s = d.continue();
      expect(s).toMatchObject({ reason: 'watchpoint', eip: L('after_store'), watch: { id: w, kind: 'write' } });
      expect(s.watch!.address).toBe(0x5000);
    });
  }
  it('read watch (needs the CPU access hook) stops after the reading instruction', () => {
    const { d } = boot({ reportAccesses: true });
    d.addWatchpoint({ kind: 'read', address: 0x5004, length: 4 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('after_load'), watch: { kind: 'read', address: 0x5004 } });
  });
  it('access watch on a stack slot sees the CALL push', () => {
    const { d } = boot({ reportAccesses: true });
    d.addWatchpoint({ kind: 'access', address: 0x9000 - 4, length: 4 });
    expect(d.continue()).toMatchObject({ reason: 'watchpoint', eip: L('func') });
  });
  it('physical write watch over a REP STOSB stops after the first iteration', () => {
    const { d } = boot();
    d.addWatchpoint({ kind: 'write', address: 0x6002, length: 1, physical: true });
    const s = d.continue();
    expect(s).toMatchObject({ reason: 'watchpoint', eip: L('rep_site') });
    expect(d.cpuState().edi).toBe(0x6003);
  });
});

describe('event breakpoints', () => {
  it('interrupt vector, console text, halt (the fake produces these kinds)', () => {
    const { d } = boot();
    const e1 = d.addEventBreakpoint({ kind: 'interrupt', where: { vector: 0x30 } });
    d.addEventBreakpoint({ kind: 'interrupt', where: { vector: 0x31 } });
    let s = d.continue();
    expect(s).toMatchObject({ reason: 'event', breakpointId: e1, eip: L('handler'), event: { kind: 'interrupt', vector: 0x30 } });
    d.setEnabled(e1, false);
    const e2 = d.addEventBreakpoint({ kind: 'console', where: { text: { contains: 'A' } } });
    s = d.continue();
    expect(s).toMatchObject({ reason: 'event', breakpointId: e2, eip: L('after_out') });
    expect(() => d.addEventBreakpoint({ kind: 'nosuch' as 'io' })).toThrow(/unknown event kind/);
  });
});

function hash(m: FakeMachine): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(m.cpu.getState()));
  h.update(m.memory.ram);
  return h.digest('hex');
}

describe('reverse execution', () => {
  it('step back N then forward N returns the identical state, at seeded random points', () => {
    let seed = 12345;
    const rand = (k: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % k;
    };
    for (let trial = 0; trial < 12; trial++) {
      const { m, d } = boot({ interval: 1 + rand(6) });
      const forward = 3 + rand(20);
      for (let i = 0; i < forward; i++) d.stepInto();
      const here = hash(m);
      const count = m.cpu.instructions;
      const back = 1 + rand(Math.min(forward, 12));
      for (let i = 0; i < back; i++) expect(d.stepBack().reason).toBe('step');
      expect(m.cpu.instructions).toBe(count - back);
      for (let i = 0; i < back; i++) d.stepInto();
      expect(hash(m), `trial ${trial}: forward ${forward}, back ${back}`).toBe(here);
    }
  });
  it('reverse continue lands on the previous breakpoint hit; stepping back restores the console', () => {
    const { m, d } = boot({ interval: 3 });
    d.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') } });
    const hits: number[] = [];
    for (let i = 0; i < 3; i++) hits.push(d.continue().instructions);
    d.runTo({ address: L('after_out') });
    expect(d.console).toBe('A');
    const hAfter = hash(m);
    expect(d.stepBack().eip).toBe(L('after_rep'));
    expect(d.console).toBe('');
    d.stepInto();
    expect(hash(m)).toBe(hAfter);
    expect(d.reverseContinue()).toMatchObject({ reason: 'breakpoint', instructions: hits[2], eip: L('loop_top') });
    expect(d.cpuState().eax).toBe(2);
    expect(d.reverseContinue()).toMatchObject({ reason: 'breakpoint', instructions: hits[1] });
    expect(d.reverseContinue()).toMatchObject({ reason: 'breakpoint', instructions: hits[0] });
    expect(d.reverseContinue().reason).toBe('history-start');
    expect(m.cpu.instructions).toBe(0);
  });
  it('reverse continue finds watchpoint and event hits', () => {
    const { d } = boot({ interval: 2 });
    d.runTo({ address: L('after_out') });
    d.addWatchpoint({ kind: 'write', address: 0x5000, length: 4 });
    expect(d.reverseContinue()).toMatchObject({ reason: 'watchpoint', eip: L('after_store') });
    d.addEventBreakpoint({ kind: 'interrupt' });
    expect(d.reverseContinue()).toMatchObject({ reason: 'event', eip: L('handler') });
  });
});
