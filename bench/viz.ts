// bench/viz: the hypervisor views in Chromium (viz.html, production build). Prints:
//  - the exit timeline with 1,000,000 events: median and p95 frame time (draw work per frame)
//    while panning and zooming from the whole run down to a few hundred ticks and back
//    (target ≤ 16 ms), plus the median interval between painted frames;
//  - time to open a 10,000,000-event trace held as binary batches (the worker's transfer format):
//    ingest into the timeline's columns, build the level-of-detail pyramid, draw the first frame
//    (target ≤ 3 s);
//  - for comparison, NDJSON parse throughput with the schema's validating reader.
// Run: npx tsx bench/viz.ts
import { openViz, stopViz } from '../test/e2e/viz-harness.ts';

async function main(): Promise<void> {
  // --expose-gc: the generator's garbage is collected before measuring, so its GC pauses do not
  // land in the frames (they are the bench's, not the timeline's).
  const viz = await openViz('bench=1', { width: 1600, height: 900, args: ['--js-flags=--expose-gc'] });
  const { page } = viz;
  const frames = await page.evaluate(async () => {
    const v = (globalThis as any).__viz;
    const { batches, info } = v.makeBatches(1_000_000);
    v.hv.info = info;
    v.hv.timeline.addBatches(batches);
    v.hv.timelineVersion = v.hv.timeline.version;
    (globalThis as any).gc?.();
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    const tl = v.timeline();
    tl.whole();
    const whole = tl.getView();
    const draw: number[] = [];
    const intervals: number[] = [];
    let last = performance.now();
    // 300 frames: zoom in 12% a frame towards the middle down to ~300 ticks, pan, zoom back out.
    const centre = (whole.t0 + whole.t1) / 2;
    let span = whole.t1 - whole.t0;
    let mid = centre;
    for (let f = 0; f < 300; f++) {
      if (f < 100) span = Math.max(300, span * 0.88);
      else if (f < 200) mid += span * 0.05;
      else span = Math.min(whole.t1 - whole.t0, span / 0.88);
      tl.setView(mid - span / 2, mid + span / 2);
      await new Promise((r) => requestAnimationFrame(r));
      draw.push(tl.drawNow());
      const now = performance.now();
      intervals.push(now - last);
      last = now;
    }
    return { draw, intervals, events: v.hv.timeline.n };
  });
  const open = await page.evaluate(async () => {
    const v = (globalThis as any).__viz;
    v.hv.timeline.reset();
    const { batches } = v.makeBatches(10_000_000);
    (globalThis as any).gc?.();
    const t0 = performance.now();
    v.hv.timeline.addBatches(batches);
    const tl = v.timeline();
    v.hv.timelineVersion = v.hv.timeline.version;
    tl.whole();
    tl.drawNow(); // builds the pyramid and paints the whole run
    const ms = performance.now() - t0;
    // One more frame zoomed in, to show that the big trace stays interactive.
    const w = tl.getView();
    tl.setView(w.t0 + (w.t1 - w.t0) * 0.5, w.t0 + (w.t1 - w.t0) * 0.5001);
    const zoomed = tl.drawNow();
    return { ms, events: v.hv.timeline.n, zoomed };
  });
  const rate = await page.evaluate(() => (globalThis as any).__viz.ndjsonRate(100_000) as number);
  await viz.close();
  await stopViz();
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  const median = (xs: number[]) => sorted(xs)[Math.floor(xs.length / 2)]!;
  const p95 = (xs: number[]) => sorted(xs)[Math.floor(xs.length * 0.95)]!;
  console.log(`timeline, ${frames.events.toLocaleString('en-US')} events, pan+zoom over 300 frames:`);
  console.log(`  draw time per frame: median ${median(frames.draw).toFixed(2)} ms, p95 ${p95(frames.draw).toFixed(2)} ms, max ${Math.max(...frames.draw).toFixed(2)} ms (target ≤ 16 ms)`);
  const phase = (a: number, b: number) => median(frames.draw.slice(a, b)).toFixed(2);
  console.log(`  median by phase: zooming in ${phase(0, 100)} ms, panning zoomed in ${phase(100, 200)} ms, zooming out ${phase(200, 300)} ms; slowest frame #${frames.draw.indexOf(Math.max(...frames.draw))}`);
  console.log(`  interval between painted frames: median ${median(frames.intervals).toFixed(1)} ms`);
  console.log(`open a ${open.events.toLocaleString('en-US')}-event trace (binary batches → columns + LOD pyramid + first frame): ${open.ms.toFixed(0)} ms (target ≤ 3000 ms); a zoomed-in frame then: ${open.zoomed.toFixed(2)} ms`);
  console.log(`NDJSON with the validating reader, for comparison: ${(rate / 1e6).toFixed(2)} M events/s (10 M events ≈ ${(1e7 / rate).toFixed(1)} s)`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
