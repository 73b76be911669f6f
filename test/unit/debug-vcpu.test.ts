// The debugger focused on one vCPU under the real hypervisor (src/debug/vcpu-target.ts): two VMs,
// VM 0 the pit-timer fixture (serial output over time), VM 1 the debugger's test kernel
// (test/unit/debug-kernel.asm), both assembled by vizor's assembler. Breakpoints and steps act on
// VM 1 while VM 0 keeps its schedule; exits of the stepped instruction show in the stream; event
// breakpoints filter by VM; and the event stream is the one an undebugged run gives.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { sourceInfo, type SourceInfo } from '../../src/debug/source.ts';
import { VcpuTarget } from '../../src/debug/vcpu-target.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { ALL_KINDS_MASK, KIND_BIT, type TraceEvent } from '../../src/trace/schema.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');

function build(source: string, fileName: string): { bytes: Uint8Array; info: SourceInfo } {
  const r = assemble(source, { fileName, provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(KERNELS, p), 'utf8') } });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { bytes: r.bytes, info: sourceInfo(r.map) };
}

let timer: Uint8Array;
let kernel: Uint8Array;
let info: SourceInfo;

beforeAll(() => {
  timer = build(readFileSync(join(KERNELS, 'pit-timer.asm'), 'utf8'), 'pit-timer.asm').bytes;
  const k = build(readFileSync(join(import.meta.dirname, 'debug-kernel.asm'), 'utf8'), 'debug-kernel.asm');
  kernel = k.bytes;
  info = k.info;
});

const L = (name: string): number => {
  const a = info.symbols.get(name);
  if (a === undefined) throw new Error(`no symbol ${name}`);
  return a;
};

function host(): Hypervisor {
  const hv = new Hypervisor({ quantum: 1000, hostMemoryBytes: 192 << 20 });
  hv.addVm({ image: timer, memoryBytes: 32 << 20, name: 'timer' });
  hv.addVm({ image: kernel, memoryBytes: 32 << 20, name: 'dbg' });
  return hv;
}

/** Snapshots often (every 300 focused instructions at the least) so reverse steps replay from one. */
function focus(hv: Hypervisor): { d: Debugger; t: VcpuTarget } {
  const t = new VcpuTarget(hv, 1);
  return { d: new Debugger(t, { symbols: info.symbols, lineMap: info.lineMap, snapshotInterval: 300, snapshotOverhead: 0 }), t };
}

/** Everything the views show of the host: every VM's registers, clock, memory, console, exits; the host clock, schedule and stream position. */
function hostHash(hv: Hypervisor): string {
  const vms = hv.vms.map((v) => [v.cpu.getState(), v.cpu.instructions, v.nowNs(), v.state, v.serialText, v.gmem.checksum(), { ...v.stats }, [...v.stats.exitsByReason]]);
  return createHash('sha256').update(JSON.stringify([hv.hostTick(), hv.switches, hv.idleTicks, hv.emitter.nextSeq, vms])).digest('hex');
}

/**
 * The stream as a view keeps it across reverse execution: by sequence number (a replay re-emits
 * the same events with the same numbers), dropping what lies after the position gone back to.
 */
function streamOf(hv: Hypervisor, d: Debugger): () => TraceEvent[] {
  const bySeq = new Map<number, TraceEvent>();
  hv.emitter.listen({ mask: ALL_KINDS_MASK, onEvent: (e) => bySeq.set(e.seq, e) });
  d.onRewind = (next) => {
    for (const seq of [...bySeq.keys()]) if (seq >= next) bySeq.delete(seq);
  };
  return () => [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

function record(hv: Hypervisor, mask = ALL_KINDS_MASK): TraceEvent[] {
  const events: TraceEvent[] = [];
  hv.emitter.listen({ mask, onEvent: (e) => events.push(e) });
  return events;
}

describe('debugging one vCPU under the hypervisor', () => {
  it('a breakpoint in VM 1 stops there while VM 0 kept running', () => {
    const hv = host();
    const { d } = focus(hv);
    const vm0 = hv.vms[0]!;
    d.addBreakpoint({ location: { kind: 'linear', address: L('after_store') } });
    const s = d.continue();
    expect(s.reason).toBe('breakpoint');
    expect(s.eip).toBe(L('after_store'));
    expect(d.pc()).toBe(L('after_store'));
    expect(hv.vms[1]!.cpu.getState().eax).toBe(d.cpuState().eax); // the engine sees VM 1's registers
    expect(d.readMemory(L('var'), 4).bytes).toEqual(hv.vms[1]!.gmem.readBytes(L('var'), 4)); // and its memory
    // VM 0 ran (and printed) meanwhile; and keeps running while VM 1 is stepped.
    const printed = vm0.serialText.length;
    const ran0 = vm0.cpu.instructions;
    expect(printed).toBeGreaterThan(0);
    for (let i = 0; i < 3000 && vm0.cpu.instructions === ran0; i++) d.stepInto();
    expect(vm0.cpu.instructions).toBeGreaterThan(ran0);
    expect(d.continue().reason).toBe('exited');
    expect(hv.vms[1]!.end).toEqual({ reason: 'debug-exit', code: 0x22 });
  });

  it('stepping an OUT shows its exit and entry for VM 1 in the stream', () => {
    const hv = host();
    const { d } = focus(hv);
    expect(d.runTo({ address: L('after_fault') }).eip).toBe(L('after_fault')); // mov al, 0x42
    expect(d.stepInto().eip).toBe(L('after_fault') + 2); // out 0x80, al
    const events = record(hv, KIND_BIT.exit | KIND_BIT.entry | KIND_BIT.io);
    const s = d.stepInto();
    expect(s.reason).toBe('step');
    expect(s.eip).toBe(L('after_out'));
    const mine = events.filter((e) => e.vm === 1);
    // A synchronous exit: the VMM handles it (exit, then entry), then the OUT completes natively (io).
    expect(mine.map((e) => e.kind)).toEqual(['exit', 'entry', 'io']);
    const exit = mine.find((e) => e.kind === 'exit');
    expect(exit).toMatchObject({ reason: 'IO_INSTRUCTION', eip: L('after_fault') + 2, instructionLength: 2 });
    expect((exit as { qualification: number }).qualification >>> 16).toBe(0x80); // the port
    expect(mine[2]).toMatchObject({ port: 0x80, value: 0x42 });
  });

  it("an event breakpoint for VM 1's I/O exits skips VM 0's", () => {
    const hv = host();
    const { d } = focus(hv);
    const exits = record(hv, KIND_BIT.exit);
    const id = d.addEventBreakpoint({ kind: 'exit', vm: 1, where: { reason: 'IO_INSTRUCTION' } });
    const s = d.continue();
    expect(s.reason).toBe('event');
    expect(s.breakpointId).toBe(id);
    const ev = s.event as TraceEvent & { reason: string; eip: number; instructionLength: number };
    expect(ev.vm).toBe(1);
    expect(ev.reason).toBe('IO_INSTRUCTION');
    expect(s.eip).toBe((ev.eip + ev.instructionLength) >>> 0); // stopped right after the exiting instruction
    // VM 0 made I/O exits before (its serial output), and none of them stopped the run.
    const before = exits.filter((e) => e.seq < ev.seq && e.kind === 'exit' && (e as { reason: string }).reason === 'IO_INSTRUCTION');
    expect(before.some((e) => e.vm === 0)).toBe(true);
    expect(before.some((e) => e.vm === 1)).toBe(false);
    // The next one stops too, still only VM 1's.
    const s2 = d.continue();
    expect(s2.reason).toBe('event');
    expect(s2.event!.vm).toBe(1);
    expect(s2.event!.seq).toBeGreaterThan(ev.seq);
  });

  // Everything but the stamps of TLB fills and page walks: stepping one instruction at a time makes
  // the CPU fetch (and so fill its TLB) one instruction later than inside a long decoded block; that
  // moves only those events' tick by one, never a cycle charged or any other event.
  it('the event stream is the undebugged run\'s, however VM 1 is stopped and stepped', () => {
    const ref = host();
    const refEvents = record(ref);
    ref.run();
    const hv = host();
    const { d } = focus(hv);
    const stream = streamOf(hv, d);
    d.addBreakpoint({ location: { kind: 'linear', address: L('after_int') } });
    d.addEventBreakpoint({ kind: 'exit', vm: 1 });
    // Going back and forth on the way changes nothing either.
    d.runTo({ address: L('after_out') });
    for (let i = 0; i < 150; i++) d.stepBack();
    for (let i = 0; i < 100; i++) d.stepInto();
    let stops = 0, last = d.continue();
    for (; last.reason !== 'exited' && stops < 100_000; stops++) last = stops % 3 === 0 ? d.stepInto() : stops % 3 === 1 ? d.stepOver() : d.continue(7);
    expect(last.reason).toBe('exited');
    expect(stops).toBeGreaterThan(20);
    const events = stream();
    const shutdown = events.findIndex((e) => e.kind === 'shutdown' && e.vm === 1);
    expect(shutdown).toBeGreaterThan(0);
    const fetchSide = (e: TraceEvent) => e.kind !== 'tlb' && e.kind !== 'walk';
    const got = events.slice(0, shutdown + 1).filter(fetchSide).map((e) => JSON.stringify({ ...e, seq: 0 }));
    const want = refEvents.slice(0, shutdown + 1).filter(fetchSide).map((e) => JSON.stringify({ ...e, seq: 0 }));
    // Both VMs took turns while VM 1 was being debugged.
    const switches = got.filter((e) => e.includes('"kind":"sched"')).map((e) => (JSON.parse(e) as { to: number }).to);
    expect(switches.indexOf(0, switches.indexOf(1))).toBeGreaterThan(0);
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) expect(`${i}: ${got[i]}`).toBe(`${i}: ${want[i]}`);
  });

  it('an event breakpoint on a switch to VM 1 stops at the first instruction VM 1 runs after it', () => {
    const hv = host();
    const { d } = focus(hv);
    d.runTo({ address: L('call_site') });
    const n = hv.vms[1]!.cpu.instructions;
    const atSwitch: number[][] = [];
    hv.emitter.listen({ mask: KIND_BIT.sched, onEvent: () => atSwitch.push(hv.vms.map((v) => v.cpu.instructions)) });
    d.addEventBreakpoint({ kind: 'sched', where: { to: 1 } });
    const s = d.continue();
    expect(s.reason).toBe('event');
    expect(s.event).toMatchObject({ kind: 'sched', to: 1, from: 0, vm: -1 });
    // Stopped at VM 1's first boundary after the switch: neither VM ran an instruction since.
    expect(atSwitch.at(-1)).toEqual(hv.vms.map((v) => v.cpu.instructions));
    expect(s.instructions).toBeGreaterThanOrEqual(n);
  });

  it('a write watchpoint on VM 1\'s variable stops right after the store; step over a CALL', () => {
    const hv = host();
    const { d } = focus(hv);
    expect(d.runTo({ address: L('call_site') }).eip).toBe(L('call_site'));
    const over = d.stepOver();
    expect(over).toMatchObject({ reason: 'step', eip: L('after_call') });
    d.addWatchpoint({ kind: 'write', address: L('var'), length: 4 });
    const s = d.continue();
    expect(s.reason).toBe('watchpoint');
    expect(s.eip).toBe(L('after_store'));
    expect(hv.vms[1]!.gmem.read32(L('var'))).toBe(d.cpuState().eax >>> 0);
  });

  it('focused on the timer VM: steps wake from HLT on its injected interrupts, the stream unchanged', () => {
    const ref = host();
    const refEvents = record(ref);
    ref.run();
    const hv = host();
    const d = new Debugger(new VcpuTarget(hv, 0), { snapshotInterval: 300, snapshotOverhead: 0 });
    const stream = streamOf(hv, d);
    d.addEventBreakpoint({ kind: 'interrupt', vm: 0 });
    let wakes = 0, last = d.continue(), i = 0;
    for (; last.reason !== 'exited' && i < 200_000; i++) {
      if (last.reason === 'event') wakes++;
      if (wakes === 3 && last.reason === 'event') for (let k = 0; k < 40; k++) d.stepBack();
      last = i % 2 === 0 ? d.stepInto() : d.continue();
    }
    expect(last.reason).toBe('exited');
    expect(wakes).toBeGreaterThan(3);
    expect(hv.vms[0]!.serialText).toBe(ref.vms[0]!.serialText);
    const events = stream();
    const shutdown = events.findIndex((e) => e.kind === 'shutdown' && e.vm === 0);
    const fetchSide = (e: TraceEvent) => e.kind !== 'tlb' && e.kind !== 'walk';
    const got = events.slice(0, shutdown + 1).filter(fetchSide).map((e) => JSON.stringify({ ...e, seq: 0 }));
    const want = refEvents.slice(0, shutdown + 1).filter(fetchSide).map((e) => JSON.stringify({ ...e, seq: 0 }));
    for (let k = 0; k < got.length; k++) if (got[k] !== want[k]) expect(`${k}: ${got[k]}`).toBe(`${k}: ${want[k]}`);
    expect(got.length).toBe(want.length);
  });

  it('step back restores the focused registers and the whole host, step forward again reproduces it', () => {
    const hv = host();
    const { d } = focus(hv);
    d.runTo({ address: L('call_site') });
    const states: { regs: unknown; hash: string; n: number }[] = [];
    const here = () => ({ regs: d.cpuState(), hash: hostHash(hv), n: hv.vms[1]!.cpu.instructions });
    states.push(here());
    const switches = hv.switches;
    for (let i = 0; i < 400; i++) {
      const s = d.stepInto();
      if (s.reason !== 'step') break;
      states.push(here());
    }
    expect(states.length).toBeGreaterThan(300); // through the #PF, the OUT exit and VM 0's turns
    expect(hv.switches).toBeGreaterThan(switches + 1);
    expect(new Set(states.map((s) => s.hash)).size).toBe(states.length);
    for (let i = states.length - 2; i >= 0; i--) {
      expect(d.stepBack().reason).toBe('step');
      expect(here()).toEqual(states[i]);
    }
    expect(d.stepBack().reason).toBe('step'); // before call_site too: the history goes back further
    d.stepInto();
    for (let i = 1; i < states.length; i++) {
      d.stepInto();
      expect(here()).toEqual(states[i]);
    }
  });

  it('reverse continue lands on the previous breakpoint hit; goTo jumps anywhere in the run', () => {
    const hv = host();
    const { d } = focus(hv);
    const id = d.addBreakpoint({ location: { kind: 'linear', address: L('loop_top') } });
    const hits: { n: number; hash: string }[] = [];
    for (let i = 0; i < 3; i++) {
      const s = d.continue();
      expect(s).toMatchObject({ reason: 'breakpoint', breakpointId: id, eip: L('loop_top') });
      hits.push({ n: s.instructions, hash: hostHash(hv) });
    }
    d.runTo({ address: L('after_out') });
    const end = { n: hv.vms[1]!.cpu.instructions, hash: hostHash(hv) };
    const back = d.reverseContinue();
    expect(back).toMatchObject({ reason: 'breakpoint', breakpointId: id, instructions: hits[2]!.n });
    expect(hostHash(hv)).toBe(hits[2]!.hash);
    expect(d.reverseContinue().instructions).toBe(hits[1]!.n);
    expect(hostHash(hv)).toBe(hits[1]!.hash);
    d.removeBreakpoint(id);
    d.goTo(end.n);
    expect(hostHash(hv)).toBe(end.hash);
    d.goTo(hits[0]!.n);
    expect(hostHash(hv)).toBe(hits[0]!.hash);
  });
});
