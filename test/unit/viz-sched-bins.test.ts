// The Gantt's fast binning (binary search for the window, the scale inlined) against the binning
// the Gantt did before (every slice, through d3's clamped linear scale): the same rectangles at
// many positions of a run (the run cut at the position, as the views show it), whole and zoomed.
import { describe, expect, it } from 'vitest';
import * as d3 from 'd3';
import { binSchedule, type SchedBins } from '../../src/ui/hv/sched-bins.ts';
import type { GanttSegment } from '../../src/ui/hv/derive.ts';

/** The Gantt's binning as it was (SchedGantt.svelte before sched-bins.ts), kept here as the reference. */
function referenceBins(segments: readonly GanttSegment[], vms: readonly number[], domain: [number, number], range: [number, number]): SchedBins {
  const x = d3.scaleLinear().domain(domain).range(range).clamp(true);
  const left = range[0], cols = Math.max(1, Math.ceil(x.range()[1]! - left));
  const rowOf = new Map(vms.map((v, i) => [v, i]));
  const nv = Math.max(1, vms.length);
  const held = new Float64Array(cols * nv);
  const starts = new Int32Array(cols);
  const firstReason: string[] = new Array(cols);
  for (const seg of segments) {
    if (seg.end < domain[0] || seg.start > domain[1]) continue;
    const row = rowOf.get(seg.vm);
    if (row === undefined) continue;
    const pa = x(seg.start) - left, pb = x(seg.end) - left;
    const c0 = Math.min(cols - 1, Math.floor(pa));
    starts[c0]!++;
    firstReason[c0] ??= seg.reason;
    for (let c = c0; c <= Math.min(cols - 1, Math.ceil(pb) - 1) || c === c0; c++) {
      held[c * nv + row]! += Math.max(0.01, Math.min(pb, c + 1) - Math.max(pa, c));
      if (c >= cols - 1) break;
    }
  }
  const cpu: SchedBins['cpu'] = [];
  const perVm: SchedBins['perVm'] = [];
  for (let c = 0; c < cols; c++) {
    let best = -1, bestT = 0;
    for (let r = 0; r < nv; r++) if (held[c * nv + r]! > bestT) { bestT = held[c * nv + r]!; best = r; }
    if (best < 0) continue;
    const vm = vms[best]!, prev = cpu[cpu.length - 1];
    if (prev && prev.vm === vm && prev.x1 === left + c) { prev.x1 = left + c + 1; prev.n += starts[c]!; continue; }
    cpu.push({ vm, x0: left + c, x1: left + c + 1, reason: firstReason[c] ?? '', n: starts[c]! });
  }
  for (let r = 0; r < nv; r++) {
    const vm = vms[r] ?? r;
    for (let c = 0; c < cols; c++) {
      if (held[c * nv + r] === 0) continue;
      const prev = perVm[perVm.length - 1];
      if (prev && prev.row === r && prev.x1 === left + c) prev.x1 = left + c + 1;
      else perVm.push({ vm, row: r, x0: left + c, x1: left + c + 1 });
    }
  }
  return { cpu, perVm };
}

/** A run of `n` slices with lengths from 1 tick to thousands (many thinner than a pixel), seeded. */
function makeRun(n: number, vms: number[], seed: number): GanttSegment[] {
  const reasons = ['quantum', 'halt', 'wake', 'yield', 'exit', 'start'];
  let s = seed >>> 0;
  const next = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8);
  const out: GanttSegment[] = [];
  let t = 100 + (next() % 1000);
  for (let i = 0; i < n; i++) {
    const len = next() % 7 === 0 ? 1 + (next() % 5000) : 1 + (next() % 40);
    out.push({ vm: vms[next() % vms.length]!, start: t, end: t + len, reason: reasons[next() % reasons.length]! });
    t += len + (next() % 4 === 0 ? next() % 30 : 0); // sometimes the CPU is idle between slices
  }
  return out;
}

/** The run as the views show it at tick `pos`: the slices begun by then, the last one cut there. */
function cutAt(run: readonly GanttSegment[], pos: number): GanttSegment[] {
  const out: GanttSegment[] = [];
  for (const seg of run) {
    if (seg.start >= pos) break;
    out.push(seg.end > pos ? { ...seg, end: pos } : seg);
  }
  return out;
}

describe('the Gantt binning', () => {
  const vms = [1, 2, 3];
  const run = makeRun(20_000, [...vms, 9], 7); // vm9 is not in the run info: its slices are not drawn
  const first = run[0]!.start, last = run[run.length - 1]!.end;

  it('equals the old binning at 200 positions over the whole run so far', () => {
    for (let k = 0; k < 200; k++) {
      const pos = first + Math.round(((k * k) / (199 * 199)) * (last - first));
      const segs = cutAt(run, pos);
      const end = segs.length ? segs[segs.length - 1]!.end : first;
      const domain: [number, number] = [first, Math.max(first + 1, end)];
      for (const range of [[91, 1590], [84.5, 790], [91, 101]] as [number, number][]) {
        const fast = binSchedule(segs, vms, domain, range);
        expect(fast).toEqual(referenceBins(segs, vms, domain, range));
      }
    }
  });

  it('equals the old binning in zoomed windows (the timeline’s), including windows past the position', () => {
    let s = 3;
    const next = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8);
    for (let k = 0; k < 150; k++) {
      const pos = first + (next() % (last - first));
      const segs = cutAt(run, pos);
      const t0 = first - 50 + (next() % (last - first)), width = 1 + (next() % Math.max(1, (last - first) >> (next() % 12)));
      const domain: [number, number] = [t0, t0 + width];
      const fast = binSchedule(segs, vms, domain, [91, 1590]);
      expect(fast).toEqual(referenceBins(segs, vms, domain, [91, 1590]));
    }
  });

  it('draws something at most positions (the comparison is not between two empty pictures)', () => {
    const b = binSchedule(run, vms, [first, last], [91, 1590]);
    expect(b.cpu.length).toBeGreaterThan(20);
    expect(new Set(b.perVm.map((m) => m.vm))).toEqual(new Set(vms));
    expect(b.cpu.reduce((a, m) => a + m.n, 0)).toBe(run.filter((g) => g.vm !== 9).length);
  });
});
