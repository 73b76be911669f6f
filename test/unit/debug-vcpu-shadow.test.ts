// The page-fault scenario of issue 6 under shadow paging, on the real hypervisor: lesson 7's kernel
// in a VM beside a second one, the debugger focused on it. An event breakpoint stops on the hidden
// fault (the shadow fill) at the exact instruction; stepping shows the guest never saw it; the
// guest's own fault is injected into its handler; stepping back returns to before the fault.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { sourceInfo, type SourceInfo } from '../../src/debug/source.ts';
import { VcpuTarget } from '../../src/debug/vcpu-target.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';

const LESSON = join(import.meta.dirname, '../../lessons/07-shadow-paging/kernel.asm');
let image: Uint8Array;
let info: SourceInfo;

beforeAll(() => {
  const r = assemble(readFileSync(LESSON, 'utf8'), {
    fileName: LESSON,
    provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(dirname(LESSON), p), 'utf8') },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  image = r.bytes;
  info = sourceInfo(r.map);
});

const L = (name: string): number => {
  const a = info.symbols.get(name);
  if (a === undefined) throw new Error(`no symbol ${name}`);
  return a;
};

function focusShadowVm(): { d: Debugger; hv: Hypervisor } {
  const hv = new Hypervisor({ quantum: 2000, hostMemoryBytes: 192 << 20 });
  hv.addVm({ image, memoryBytes: 32 << 20, paging: 'shadow', name: 'lesson7' });
  hv.addVm({ image, memoryBytes: 32 << 20, paging: 'shadow', name: 'neighbour' });
  const d = new Debugger(new VcpuTarget(hv, 0), { symbols: info.symbols, lineMap: info.lineMap, snapshotInterval: 500, snapshotOverhead: 0 });
  return { d, hv };
}

describe('stepping through page faults under shadow paging (focused vCPU)', () => {
  it('stops on the hidden fault at its instruction; the guest never sees it; step back undoes it', () => {
    const { d, hv } = focusShadowVm();
    expect(d.runTo({ address: L('pass1') }).eip).toBe(L('pass1'));
    const faultsBefore = hv.vms[0]!.gmem.readBytes(L('faults'), 4);
    const before = d.cpuState();
    d.addEventBreakpoint({ kind: 'pagefault', vm: 0, where: { outcome: 'hidden' } });
    const s = d.continue();
    expect(s.reason).toBe('event');
    expect(s.event?.kind).toBe('pagefault');
    expect(s.event && 'eip' in s.event ? s.event.eip : -1).toBe(L('pass1'));
    // The VMM filled its shadow table and the instruction completes: no guest handler runs.
    const after = d.stepInto();
    expect(after.eip).not.toBe(L('pf_handler'));
    expect(hv.vms[0]!.gmem.readBytes(L('faults'), 4)).toEqual(faultsBefore);
    // Back to before the faulting load: registers as they were.
    let back = d.stepBack();
    while (back.reason === 'step' && d.pc() !== L('pass1')) back = d.stepBack();
    expect(d.pc()).toBe(L('pass1'));
    expect(d.cpuState().eax).toBe(before.eax);
  });

  it('a shadow fill event breakpoint stops on a fill of this VM', () => {
    const { d } = focusShadowVm();
    d.addEventBreakpoint({ kind: 'shadow', vm: 0, where: { op: 'fill' } });
    const s = d.continue();
    expect(s.reason).toBe('event');
    expect(s.event?.kind).toBe('shadow');
    expect(s.event?.vm).toBe(0);
  });

  it("the guest's own fault is injected: stepping goes into its handler, and back out", () => {
    const { d } = focusShadowVm();
    expect(d.runTo({ address: L('pass1_write') }).eip).toBe(L('pass1_write'));
    const faultBp = d.addEventBreakpoint({ kind: 'pagefault', vm: 0, where: { outcome: 'injected' } });
    const s = d.continue();
    expect(s.reason).toBe('event');
    expect(s.event && 'linear' in s.event ? s.event.linear : -1).toBe(0x400000);
    // The stop is at the write or already at the handler's first instruction (the fault delivered).
    for (let i = 0; i < 4 && d.pc() !== L('pf_handler'); i++) expect(d.stepInto().reason).toBe('step');
    expect(d.pc()).toBe(L('pf_handler'));
    // Step back out of the handler: to the faulting write, not yet done.
    d.stepBack();
    expect(d.pc()).toBe(L('pass1_write'));
    expect(d.readMemory(0x400000, 4).bytes).not.toEqual(new Uint8Array([0x0d, 0x60, 0, 0]));
    // Forward again without the event breakpoint: the handler maps the page, IRET retries the write.
    d.removeBreakpoint(faultBp);
    d.addBreakpoint({ location: { kind: 'linear', address: L('pass2') } });
    expect(d.continue().eip).toBe(L('pass2'));
    expect(d.readMemory(0x400000, 4).bytes).toEqual(new Uint8Array([0x0d, 0x60, 0, 0]));
  });
});
