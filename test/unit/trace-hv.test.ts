// The event stream of a real multi-VM run: three fixture kernels under the hypervisor (shadow and
// nested paging), recorded through the emitter. The stream must be valid, survive the NDJSON,
// binary and ring round trips, give a Perfetto trace a viewer accepts (VMs as processes, the
// hypervisor as its own, slices well nested), and a summary whose times add up.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { captureEvents, checkRoundTrips } from '../../src/trace/capture.ts';
import {
  checkChromeTrace,
  HYPERVISOR_PID,
  pidOf,
  toPerfetto,
  type ChromeEvent,
} from '../../src/trace/perfetto.ts';
import { RingBuffer } from '../../src/trace/ring.ts';
import { summarize } from '../../src/trace/summary.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-trace-hv-'));

function assemble(name: string): Uint8Array {
  const out = join(dir, `${name}.bin`);
  execFileSync('nasm', ['-f', 'bin', '-i', 'fixtures/kernels/', `fixtures/kernels/${name}.asm`, '-o', out]);
  return new Uint8Array(readFileSync(out));
}

function recordThreeVms(): { events: TraceEvent[]; ticks: number } {
  const hv = new Hypervisor({ hostMemoryBytes: 256 * 1024 * 1024 });
  hv.addVm({ name: 'timer', image: assemble('pit-timer'), paging: 'shadow' });
  hv.addVm({ name: 'shadow', image: assemble('paging'), paging: 'shadow' });
  hv.addVm({ name: 'nested', image: assemble('paging'), paging: 'nested' });
  let ticks = 0;
  const events = captureEvents(hv.emitter, () => {
    ticks = hv.run(50_000_000).ticks;
  });
  hv.release();
  return { events, ticks };
}

describe('the event stream of a three-VM hypervisor run', () => {
  const { events } = recordThreeVms();

  it('has exits, entries, scheduling and paging events from every VM', () => {
    for (const kind of ['exit', 'entry', 'sched', 'pagefault'] as const) {
      expect(
        events.some((e) => e.kind === kind),
        kind,
      ).toBe(true);
    }
    expect(new Set(events.map((e) => e.vm))).toEqual(new Set([-1, 0, 1, 2]));
  });

  it('survives NDJSON, binary and ring round trips', () => {
    expect(checkRoundTrips(events)).toBeNull();
    const ring = new RingBuffer({ capacity: events.length });
    for (const ev of events) ring.push(ev);
    expect(ring.toArray()).toStrictEqual(events);
  });

  it('gives a Perfetto trace a viewer accepts: VMs as processes, the hypervisor as its own', () => {
    const trace = toPerfetto(events, { vms: 3 });
    expect(checkChromeTrace(JSON.parse(JSON.stringify(trace)))).toEqual([]);
    const processes = new Map(
      trace.traceEvents.filter((e) => e.name === 'process_name').map((e) => [e.pid, e.args!.name]),
    );
    expect(processes).toEqual(
      new Map<number, unknown>([
        [HYPERVISOR_PID, 'hypervisor'],
        [pidOf(0), 'VM 0'],
        [pidOf(1), 'VM 1'],
        [pidOf(2), 'VM 2'],
      ]),
    );
    const exits = trace.traceEvents.filter((e: ChromeEvent) => e.cat === 'exit');
    expect(exits.length).toBe(events.filter((e) => e.kind === 'exit').length);
    expect(exits.every((e) => e.ph === 'X' && e.pid !== HYPERVISOR_PID)).toBe(true);
    expect(trace.traceEvents.filter((e) => e.cat === 'sched').every((e) => e.pid === HYPERVISOR_PID)).toBe(
      true,
    );
  });

  it('summarises: the time of the VMs and the hypervisor adds up to the whole run', () => {
    const s = summarize(events);
    const total = [...s.timeByVm.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(s.lastTick - s.firstTick);
    expect(s.timeByVm.get(-1)).toBeGreaterThan(0);
    for (const vm of [0, 1, 2]) expect(s.timeByVm.get(vm), `VM ${vm}`).toBeGreaterThan(0);
    // The schema's contract for exits: the vCPU's next entry comes no earlier than tick + cycles.
    const open = new Map<string, TraceEvent & { kind: 'exit' }>();
    for (const e of events) {
      const key = `${e.vm}:${e.vcpu}`;
      if (e.kind === 'exit') open.set(key, e);
      if (e.kind === 'entry' && open.has(key)) {
        const exit = open.get(key)!;
        expect(e.tick, `entry seq ${e.seq} after exit seq ${exit.seq}`).toBeGreaterThanOrEqual(
          exit.tick + exit.cycles,
        );
        open.delete(key);
      }
    }
  });
});
