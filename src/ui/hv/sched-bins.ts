// The scheduler Gantt's binning: the run's time slices folded into pixel columns, so hundreds of
// thousands of slices cost a few thousand shapes. In each column the CPU row shows the VM that
// held the CPU longest there; each VM's row shows the columns where it ran at all; runs of equal
// columns become one rectangle. Called on every seek, so it touches only the slices in the window
// (found by binary search: the slices are in time order and do not overlap, so their ends are
// sorted too) and does the scale's arithmetic inline (the same operations, in the same order, as
// d3's clamped linear scale, so the same pixels).
import * as d3 from 'd3';
import type { GanttSegment } from './derive.ts';

export interface CpuBin { vm: number; x0: number; x1: number; reason: string; n: number }
export interface VmBin { vm: number; row: number; x0: number; x1: number }
export interface SchedBins { cpu: CpuBin[]; perVm: VmBin[] }

const byEnd = d3.bisector((s: GanttSegment) => s.end);

/**
 * Bins `segments` between `domain` ticks onto the pixels `range` (x = range[0] is column 0), as
 * the Gantt's d3.scaleLinear().domain(domain).range(range).clamp(true) places them.
 */
export function binSchedule(segments: readonly GanttSegment[], vms: readonly number[], domain: readonly [number, number], range: readonly [number, number]): SchedBins {
  const [d0, d1] = domain, [r0, r1] = range;
  const span = d1 - d0;
  const px = (v: number): number => {
    const t = span ? (Math.max(d0, Math.min(d1, v)) - d0) / span : 0.5;
    return r0 * (1 - t) + r1 * t;
  };
  const left = r0, cols = Math.max(1, Math.ceil(r1 - left));
  const rowOf = new Map(vms.map((vm, i) => [vm, i]));
  const nv = Math.max(1, vms.length);
  const held = new Float64Array(cols * nv);
  const starts = new Int32Array(cols); // slices starting in the column
  const firstReason: (string | undefined)[] = new Array(cols);
  let lastVm = NaN, lastRow: number | undefined;
  for (let i = byEnd.left(segments, d0); i < segments.length; i++) {
    const seg = segments[i]!;
    if (seg.start > d1) break;
    if (seg.vm !== lastVm) { lastVm = seg.vm; lastRow = rowOf.get(seg.vm); }
    const row = lastRow;
    if (row === undefined) continue;
    const pa = px(seg.start) - left, pb = px(seg.end) - left;
    const c0 = Math.min(cols - 1, Math.floor(pa));
    starts[c0]!++;
    firstReason[c0] ??= seg.reason;
    // A slice thinner than a pixel still counts (so a short one is never lost), by its width.
    const cEnd = Math.min(cols - 1, Math.ceil(pb) - 1);
    for (let c = c0; c <= cEnd || c === c0; c++) {
      held[c * nv + row]! += Math.max(0.01, Math.min(pb, c + 1) - Math.max(pa, c));
      if (c >= cols - 1) break;
    }
  }
  const cpu: CpuBin[] = [];
  const perVm: VmBin[] = [];
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
