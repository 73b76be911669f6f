// Drawing the exit timeline on a canvas, and finding what is under the pointer. Lanes: the
// hypervisor on top, then one per VM. Each lane has a band of time slices (guest time in the VM's
// colour; in the hypervisor lane, handler time) and three rows of marks: exits (and injections),
// page faults (hidden, true, EPT violation), shadow operations (switches, in the hypervisor lane).
// Zoomed out, every pixel column shows aggregated counts from the store's pyramid; zoomed in
// until few events are visible, each event gets its own glyph and, where there is room, a label.
import * as d3 from 'd3';
import { EXIT_REASONS } from '../../trace/schema.ts';
import { CAT, NCAT, SHADOW_OPS, type LaneBins, type TimelineStore } from './timeline-store.ts';
import { CAT_COLORS, CAT_COLORS_DARK, vmColor, vmTextColor } from './colors.ts';

export interface Geometry {
  width: number; // CSS pixels, whole canvas
  height: number;
  gutter: number; // lane labels
  axis: number; // axis height
  laneHeight: number;
  font: number; // px
}

export interface Theme { fg: string; muted: string; panel: string; border: string; accent: string; dark: boolean }

export interface View { t0: number; t1: number }

/** Which mark row a category is drawn in. */
export const ROW_OF_CAT = [0, 0, 1, 1, 1, 2, 0, -1];
export const BAND = 0.34; // share of the lane height used by the slice band

export function geometryFor(width: number, lanes: number, font: number): Geometry {
  const laneHeight = Math.round(font * 4.6);
  const axis = Math.round(font * 2);
  return { width, height: axis + lanes * laneHeight + 4, gutter: Math.round(font * 8.5), axis, laneHeight, font };
}

export function laneAt(g: Geometry, y: number, lanes: number): { lane: number; row: number } | null {
  const ly = y - g.axis;
  if (ly < 0) return null;
  const lane = Math.floor(ly / g.laneHeight);
  if (lane >= lanes) return null;
  const within = (ly - lane * g.laneHeight) / g.laneHeight;
  return { lane, row: within < BAND ? -1 : Math.min(2, Math.floor((within - BAND) / ((1 - BAND) / 3))) };
}

const binsCache: LaneBins[] = [];

/** Draws one frame. `labels` = lane names. Returns how many events are visible (for the readout). */
export function drawTimeline(ctx: CanvasRenderingContext2D, store: TimelineStore, view: View, g: Geometry, theme: Theme, labels: string[], positionTick: number | null, rowNames: string[][] = []): number {
  const plotW = Math.max(1, Math.floor(g.width - g.gutter));
  const { t0, t1 } = view;
  ctx.clearRect(0, 0, g.width, g.height);
  ctx.fillStyle = theme.panel;
  ctx.fillRect(0, 0, g.width, g.height);
  ctx.font = `${g.font}px system-ui, sans-serif`;
  ctx.textBaseline = 'middle';
  const x = d3.scaleLinear().domain([t0, t1]).range([g.gutter, g.gutter + plotW]);
  // Axis: virtual time in ticks (instructions, or modelled cycles while the hypervisor works).
  ctx.fillStyle = theme.muted;
  ctx.strokeStyle = theme.border;
  ctx.lineWidth = 1;
  const ticks = x.ticks(Math.max(2, Math.floor(plotW / (g.font * 9))));
  const fmt = x.tickFormat(ticks.length, '~s');
  ctx.textAlign = 'center';
  for (const t of ticks) {
    const px = Math.round(x(t)) + 0.5;
    ctx.beginPath(); ctx.moveTo(px, g.axis - 5); ctx.lineTo(px, g.height); ctx.globalAlpha = 0.35; ctx.stroke(); ctx.globalAlpha = 1;
    ctx.fillText(fmt(t), px, g.axis / 2 - 2);
  }
  const visible = store.lowerBound(t1) - store.lowerBound(t0);
  const detail = visible <= Math.max(60, plotW / 6);
  const marks = theme.dark ? CAT_COLORS_DARK : CAT_COLORS;
  const allBins = store.binAll(t0, t1, plotW, binsCache);
  for (let lane = 0; lane < store.lanes; lane++) {
    const y0 = g.axis + lane * g.laneHeight;
    const bandH = g.laneHeight * BAND;
    const rowH = (g.laneHeight * (1 - BAND)) / 3;
    ctx.fillStyle = theme.border;
    ctx.fillRect(0, y0 + g.laneHeight - 1, g.width, 1);
    // Label.
    ctx.textAlign = 'left';
    ctx.fillStyle = lane === 0 ? theme.fg : vmTextColor(lane - 1, theme.dark);
    ctx.font = `600 ${g.font}px system-ui, sans-serif`;
    ctx.fillText(labels[lane] ?? `lane ${lane}`, 6, y0 + bandH / 2 + 2);
    ctx.font = `${g.font * 0.85}px system-ui, sans-serif`;
    ctx.fillStyle = theme.muted;
    const names = rowNames[lane] ?? (lane === 0 ? ['switches', '', ''] : ['exits', 'faults', 'shadow ops']);
    for (let r = 0; r < 3; r++) if (names[r]) ctx.fillText(names[r]!, 6, y0 + bandH + rowH * (r + 0.5));
    ctx.font = `${g.font}px system-ui, sans-serif`;
    const bins = allBins[lane]!;
    // Slices: runs of pixels with the same colour and coverage (in 8 steps), alpha by coverage,
    // one path per colour and step.
    const slicePaths = new Map<number, Path2D>();
    const stripes = new Map<number, Path2D>();
    for (let px = 0; px < plotW; ) {
      const c = bins.cover[px]!;
      if (c <= 0) { px++; continue; }
      const vm = bins.vm[px]!;
      const step = Math.min(8, Math.ceil(c * 8));
      let end = px + 1;
      while (end < plotW && bins.vm[end] === vm && bins.cover[end]! > 0 && Math.min(8, Math.ceil(bins.cover[end]! * 8)) === step) end++;
      // Handler time is the hypervisor's (grey); a stripe in the colour of the VM it serves.
      const key = (lane === 0 ? -1 : vm) * 16 + step;
      let path = slicePaths.get(key);
      if (!path) slicePaths.set(key, (path = new Path2D()));
      path.rect(g.gutter + px, y0 + 3, end - px, bandH - 4);
      if (lane === 0 && vm >= 0) {
        let sp = stripes.get(vm);
        if (!sp) stripes.set(vm, (sp = new Path2D()));
        sp.rect(g.gutter + px, y0 + bandH - 5, end - px, 4);
      }
      px = end;
    }
    for (const [key, path] of slicePaths) {
      const step = ((key % 16) + 16) % 16;
      ctx.globalAlpha = 0.25 + 0.75 * (step / 8);
      ctx.fillStyle = vmColor(Math.floor(key / 16));
      ctx.fill(path);
    }
    ctx.globalAlpha = 1;
    for (const [vm, path] of stripes) { ctx.fillStyle = vmColor(vm); ctx.fill(path); }
    if (detail) continue;
    // Aggregated marks: a bar per pixel and row, height by log(count), colour of the commonest
    // category. Gathered into one path per colour: thousands of fillRect calls would cost more
    // than everything else in the frame.
    let max = 1;
    for (let i = 0; i < bins.counts.length; i++) if (bins.counts[i]! > max) max = bins.counts[i]!;
    const logMax = Math.log1p(max);
    const paths: (Path2D | null)[] = new Array(NCAT).fill(null);
    for (let px = 0; px < plotW; px++) {
      const base = px * NCAT;
      for (let r = 0; r < 3; r++) {
        let best = -1, total = 0, bestN = 0;
        for (let c = 0; c < NCAT; c++) {
          if (ROW_OF_CAT[c] !== r) continue;
          const n = bins.counts[base + c]!;
          total += n;
          if (n > bestN) { bestN = n; best = c; }
        }
        if (total === 0) continue;
        const h = rowH * (0.35 + 0.6 * (Math.log1p(total) / logMax));
        (paths[best] ??= new Path2D()).rect(g.gutter + px, y0 + bandH + rowH * (r + 1) - h, 1, h - 1);
      }
    }
    paths.forEach((p, c) => { if (p) { ctx.fillStyle = marks[c]!; ctx.fill(p); } });
  }
  if (detail) drawDetail(ctx, store, view, g, marks, theme, x);
  if (positionTick !== null && positionTick >= t0 && positionTick <= t1) {
    const px = Math.round(x(positionTick)) + 0.5;
    ctx.strokeStyle = theme.accent;
    ctx.lineWidth = 2;
    ctx.beginPath(); ctx.moveTo(px, g.axis - 6); ctx.lineTo(px, g.height); ctx.stroke();
  }
  return visible;
}

/** Few events in view: one glyph per event, labels where they fit. */
function drawDetail(ctx: CanvasRenderingContext2D, store: TimelineStore, view: View, g: Geometry, marks: string[], theme: Theme, x: d3.ScaleLinear<number, number>): void {
  const lastLabelEnd: number[] = [];
  const r = Math.max(3, g.font * 0.32);
  ctx.textAlign = 'left';
  ctx.font = `${g.font * 0.78}px system-ui, sans-serif`;
  for (let i = store.lowerBound(view.t0); i < store.n && store.tick[i]! < view.t1; i++) {
    const cat = store.cat[i]!;
    const row = ROW_OF_CAT[cat]!;
    if (row < 0) continue;
    const lane = store.lane[i]!;
    const bandH = g.laneHeight * BAND;
    const rowH = (g.laneHeight * (1 - BAND)) / 3;
    const cx = x(store.tick[i]!);
    const cy = g.axis + lane * g.laneHeight + bandH + rowH * (row + 0.5);
    ctx.fillStyle = marks[cat]!;
    ctx.strokeStyle = marks[cat]!;
    ctx.lineWidth = 2;
    ctx.beginPath();
    if (cat === CAT.hidden) { ctx.arc(cx, cy, r, 0, 2 * Math.PI); ctx.stroke(); }
    else if (cat === CAT.injected || cat === CAT.inject) { ctx.arc(cx, cy, r, 0, 2 * Math.PI); ctx.fill(); }
    else if (cat === CAT.ept || cat === CAT.shadow) { ctx.rect(cx - r, cy - r, 2 * r, 2 * r); ctx.fill(); }
    else { ctx.moveTo(cx - r, cy - r); ctx.lineTo(cx + r, cy - r); ctx.lineTo(cx, cy + r); ctx.closePath(); ctx.fill(); }
    const label = labelOf(store, i);
    const key = lane * 3 + row;
    if (label && cx + r + 3 > (lastLabelEnd[key] ?? -Infinity)) {
      const w = ctx.measureText(label).width;
      ctx.fillStyle = theme.fg;
      ctx.fillText(label, cx + r + 3, cy);
      lastLabelEnd[key] = cx + r + 3 + w + 6;
    }
  }
}

function labelOf(store: TimelineStore, i: number): string {
  switch (store.cat[i]) {
    case CAT.exit: return EXIT_REASONS[store.sub[i]!] ?? 'exit';
    case CAT.inject: return `inject #${store.sub[i]}`;
    case CAT.hidden: return 'hidden #PF';
    case CAT.injected: return 'true #PF';
    case CAT.ept: return 'EPT violation';
    case CAT.shadow: return SHADOW_OPS[store.sub[i]!] ?? 'shadow';
    case CAT.sched: return 'switch';
    default: return '';
  }
}

/** The event nearest to tick `t` in `lane` within `radius` ticks (marks first), or -1. Scans at most `cap` events. */
export function nearestEvent(store: TimelineStore, lane: number, t: number, radius: number, row = -1, cap = 50_000): number {
  let best = -1, bestD = Infinity;
  const end = store.lowerBound(t + radius);
  for (let i = store.lowerBound(t - radius), k = 0; i < end && k < cap; i++, k++) {
    if (store.lane[i] !== lane) continue;
    const cat = store.cat[i]!;
    if (ROW_OF_CAT[cat]! < 0) continue;
    const d = Math.abs(store.tick[i]! - t) + (row >= 0 && ROW_OF_CAT[cat] !== row ? radius : 0);
    if (d < bestD) { bestD = d; best = i; }
  }
  return best;
}

/** The slice of `lane` covering tick `t`, or -1. */
export function sliceAt(store: TimelineStore, lane: number, t: number): number {
  for (let s = store.firstSliceAfter(t); s < store.sliceCount && store.sliceStart[s]! <= t; s++) if (store.sliceLane[s] === lane) return s;
  return -1;
}

/** Counts per category in `lane` over [a, b), from raw events (capped) — for hover text when zoomed out. */
export function countRange(store: TimelineStore, lane: number, a: number, b: number, cap = 400_000): { counts: number[]; exact: boolean; reasons: Map<number, number> } {
  const counts = new Array<number>(NCAT).fill(0);
  const reasons = new Map<number, number>();
  const end = store.lowerBound(b);
  let i = store.lowerBound(a);
  for (let k = 0; i < end && k < cap; i++, k++) {
    if (store.lane[i] !== lane) continue;
    counts[store.cat[i]!]!++;
    if (store.cat[i] === CAT.exit) reasons.set(store.sub[i]!, (reasons.get(store.sub[i]!) ?? 0) + 1);
  }
  return { counts, exact: i >= end, reasons };
}
