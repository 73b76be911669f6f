// The hypervisor views (viz.html) in Chromium, fed by the synthetic scenario generator: each view
// shows the counts the stream holds (counted here independently from the same events), the
// timeline explains what is under the pointer, zooms, pans and asks for a seek on click, every
// view follows the position backwards too, and screenshots are taken for light, dark, presenter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { highlightedRows, openViz, stopViz, vizShot, type VizPage } from './viz-harness.ts';
import { generateScenario } from '../../src/ui/hv/scenario.ts';
import { eventLine } from '../../src/trace/ndjson.ts';
import { encodeTraceFile, scanTraceFile } from '../../src/trace/file.ts';
import type { VizEvent } from '../../src/ui/hv/types.ts';
import { BAND } from '../../src/ui/hv/timeline-draw.ts';

const EVENTS = 20_000;
type G = { width: number; gutter: number; axis: number; laneHeight: number };
type View = { t0: number; t1: number };

async function geometry(page: Page): Promise<G> {
  return page.evaluate(() => (globalThis as any).__viz.timeline().getGeometry());
}
async function setView(page: Page, t0: number, t1: number): Promise<void> {
  await page.evaluate(([a, b]) => (globalThis as any).__viz.timeline().setView(a, b), [t0, t1]);
  await page.waitForTimeout(100);
}
async function view(page: Page): Promise<View> {
  return page.evaluate(() => (globalThis as any).__viz.timeline().getView());
}
/** Page coordinates of an event's mark: lane = vm + 1, row 0 = exits, 1 = faults, 2 = shadow ops. */
async function markAt(page: Page, tick: number, vm: number, row: number): Promise<{ x: number; y: number }> {
  const g = await geometry(page);
  const v = await view(page);
  const canvas = page.locator('[data-testid="hv-timeline"] canvas');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  const x = box.x + 1 + g.gutter + ((tick - v.t0) / (v.t1 - v.t0)) * (g.width - g.gutter);
  const laneTop = g.axis + (vm + 1) * g.laneHeight;
  const y = box.y + 1 + laneTop + g.laneHeight * BAND + ((g.laneHeight * (1 - BAND)) / 3) * (row + 0.5);
  return { x, y };
}
const exitsUpTo = (events: VizEvent[], seq: number) => events.filter((e) => e.kind === 'exit' && e.seq <= seq).length;
const hex = (n: number, w = 8) => (n >>> 0).toString(16).padStart(w, '0');

/**
 * The tables highlight exactly one row, and it is the stopped shadow event's entry: its linear
 * page and page-table index are the event's, its guest PTE and shadow PTE the event's values.
 */
async function expectHighlighted(page: Page, ev: { linear: number; guestPte: number; shadowPte: number; op: string }): Promise<void> {
  await expect.poll(async () => (await highlightedRows(page)).length).toBe(1);
  const [row] = await highlightedRows(page);
  expect(row).toEqual({ linear: hex(ev.linear & ~0xfff), op: ev.op, index: hex((ev.linear >>> 12) & 0x3ff, 3), page: hex(ev.linear & ~0xfff), guestPte: expect.stringContaining(hex(ev.guestPte)), shadowPte: expect.stringContaining(hex(ev.shadowPte)) });
}

describe('hypervisor views: shadow paging, 3 VMs', () => {
  const run = generateScenario({ events: EVENTS, paging: 'shadow' });
  let viz: VizPage;
  beforeAll(async () => {
    viz = await openViz(`scenario=shadow&events=${EVENTS}&theme=light`);
  });
  afterAll(async () => {
    await viz?.close();
  });

  it('every view shows the counts in the stream', async () => {
    const { page } = viz;
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
    for (const v of run.info.vms) {
      const exits = run.events.filter((e) => e.kind === 'exit' && e.vm === v.vm).length;
      await expect.poll(() => page.locator(`[data-testid="hv-vms"] [data-vm="${v.vm}"] [data-testid="vm-exits"]`).innerText()).toBe(exits.toLocaleString('en-US'));
      expect(await page.locator(`[data-testid="exits-total"][data-vm="${v.vm}"]`).getAttribute('data-count')).toBe(String(exits));
      const guestFrames = run.events.reduce((a, e) => a + (e.kind === 'frame' && e.owner === 'guest' && e.ownerVm === v.vm ? (e.op === 'alloc' ? 1 : -1) : 0), 0);
      expect(await page.locator(`[data-testid="hv-memory"] [data-owner="g${v.vm}"]`).getAttribute('data-count')).toBe(String(guestFrames));
    }
    const reasons = new Map<string, number>();
    for (const e of run.events) if (e.kind === 'exit') reasons.set(e.reason, (reasons.get(e.reason) ?? 0) + 1);
    for (const [reason, n] of reasons) expect(await page.locator(`[data-testid="hv-exits"] [data-reason="${reason}"]`).getAttribute('data-count')).toBe(String(n));
    const switches = run.events.filter((e) => e.kind === 'sched' && e.reason !== 'wake' && e.to >= 0).length;
    expect(await page.locator('[data-testid="hv-sched"]').getAttribute('data-switches')).toBe(String(switches));
    const wp = [...new Set(run.events.flatMap((e) => (e.kind === 'shadow' && e.op === 'write-protect' && e.vm === 0 ? [e.guestTable!] : [])))].sort((a, b) => a - b);
    expect(await page.locator('[data-testid="wp-pages"]').innerText()).toBe(wp.map((p) => p.toString(16).padStart(8, '0')).join(', '));
    expect(await page.locator('[data-testid="hv-walk"] [data-step]').count()).toBe(2);
    await vizShot(page, 'light-all');
    for (const [name, id] of [['vms', 'hv-vms'], ['timeline', 'hv-timeline'], ['exits', 'hv-exits'], ['sched', 'hv-sched'], ['tables', 'hv-tables'], ['walk', 'hv-walk'], ['memory', 'hv-memory']]) {
      await vizShot(page, `light-${name}`, `[data-testid="${id}"]`);
    }
  });

  it('the timeline zooms with the wheel and pans with a drag', async () => {
    const { page } = viz;
    const canvas = page.locator('[data-testid="hv-timeline"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const before = await view(page);
    await page.mouse.move(box.x + box.width / 2, box.y + 40);
    await page.mouse.wheel(0, -600);
    await expect.poll(async () => { const v = await view(page); return v.t1 - v.t0; }).toBeLessThan((before.t1 - before.t0) / 2);
    const zoomed = await view(page);
    await page.mouse.move(box.x + box.width / 2, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width / 2 - 200, box.y + 40, { steps: 5 });
    await page.mouse.up();
    const panned = await view(page);
    expect(panned.t0).toBeGreaterThan(zoomed.t0);
    expect(panned.t1 - panned.t0).toBeCloseTo(zoomed.t1 - zoomed.t0, 0);
    // The Gantt follows the timeline's window.
    await setView(page, 2_000_000, 3_000_000);
    const inWindow = run.events.filter((e) => e.kind === 'sched' && e.reason !== 'wake' && e.tick >= 2_000_000 && e.tick <= 3_000_000).length;
    expect(await page.locator('[data-testid="hv-sched"] header').innerText()).toContain('showing the timeline’s window');
    expect(await page.locator('[data-testid="hv-sched"] svg rect').count()).toBeGreaterThanOrEqual(2 * inWindow);
    await vizShot(page, 'light-sched-window', '[data-testid="hv-sched"]');
  });

  it('hovering explains events in words, zoomed out and down to single events', async () => {
    const { page } = viz;
    await page.evaluate(() => (globalThis as any).__viz.timeline().whole());
    await page.waitForTimeout(100);
    const busy = run.events.filter((e) => e.kind === 'exit' && e.vm === 1)[400]!;
    const p = await markAt(page, busy.tick, 1, 0);
    await page.mouse.move(p.x, p.y);
    await expect.poll(() => page.locator('[data-testid="timeline-tooltip"]').innerText()).toMatch(/exits \(/);
    await vizShot(page, 'light-timeline-hover-summary', '[data-testid="hv-timeline"]');
    // Zoom in around one CR_ACCESS exit until single events are drawn.
    const cr = run.events.filter((e) => e.kind === 'exit' && e.reason === 'CR_ACCESS' && e.vm === 0)[5]!;
    await setView(page, cr.tick - 3000, cr.tick + 9000);
    const q = await markAt(page, cr.tick, 0, 0);
    await page.mouse.move(q.x, q.y);
    const tip = page.locator('[data-testid="timeline-tooltip"]');
    await expect.poll(() => tip.innerText()).toContain('vm0 exits: CR_ACCESS');
    expect(await tip.innerText()).toContain('control register');
    await vizShot(page, 'light-timeline-zoomed-hover', '[data-testid="hv-timeline"]');
    // Down to single instructions: a span of a few dozen ticks.
    await setView(page, cr.tick - 20, cr.tick + 20);
    expect(await page.locator('[data-testid="timeline-readout"]').innerText()).toMatch(/px per tick/);
  });

  it('clicking a timeline event asks for a seek there, and every view goes back to that moment', async () => {
    const { page } = viz;
    const cr = run.events.filter((e) => e.kind === 'exit' && e.reason === 'CR_ACCESS' && e.vm === 0)[5]!;
    await setView(page, cr.tick - 3000, cr.tick + 9000);
    const q = await markAt(page, cr.tick, 0, 0);
    await page.mouse.click(q.x, q.y);
    await expect.poll(() => page.evaluate(() => (globalThis as any).__viz.seeks().at(-1))).toEqual({ seq: cr.seq, tick: cr.tick });
    await expect.poll(() => page.locator('[data-testid="position-readout"]').getAttribute('data-seq')).toBe(String(cr.seq));
    const total = async () => {
      let n = 0;
      for (const v of run.info.vms) n += Number((await page.locator(`[data-vm="${v.vm}"] [data-testid="vm-exits"]`).innerText()).replace(/,/g, ''));
      return n;
    };
    await expect.poll(total).toBe(exitsUpTo(run.events, cr.seq));
    // Step back one exit: every count follows.
    await page.getByRole('button', { name: '◀ exit' }).click();
    const prev = run.events.filter((e) => e.kind === 'exit' && e.seq < cr.seq).at(-1)!;
    await expect.poll(() => page.locator('[data-testid="position-readout"]').getAttribute('data-seq')).toBe(String(prev.seq));
    await expect.poll(total).toBe(exitsUpTo(run.events, cr.seq) - 1);
    expect(await page.locator('[data-testid="hv-exits"] [data-reason="CR_ACCESS"]').getAttribute('data-count')).toBe(
      String(run.events.filter((e) => e.kind === 'exit' && e.reason === 'CR_ACCESS' && e.seq <= prev.seq).length),
    );
  });

  it('an event breakpoint on a shadow fill stops there, and the highlighted row is that fill\'s entry', async () => {
    const { page } = viz;
    const fills = run.events.filter((e) => e.kind === 'shadow' && e.op === 'fill' && e.vm === 2);
    const fill = fills[30]!;
    if (fill.kind !== 'shadow') throw new Error('not a shadow event');
    // Start just after the previous fill of VM 2, with VM 2 in the tables, and run to the next fill.
    await page.locator('[data-testid="hv-vms"] [data-vm="2"]').click();
    await page.evaluate((seq) => { (globalThis as any).__viz.hv.position = seq; }, fills[29]!.seq + 1);
    await page.getByTestId('next-fill').click();
    await expect.poll(() => page.locator('[data-testid="position-readout"]').getAttribute('data-seq')).toBe(String(fill.seq));
    await expectHighlighted(page, fill);
    await vizShot(page, 'light-tables-fill', '[data-testid="hv-tables"]');
  });
});

describe('hypervisor views: live and from a file', () => {
  let viz: VizPage;
  beforeAll(async () => {
    viz = await openViz('scenario=shadow&events=6000&theme=light');
  });
  afterAll(async () => {
    await viz?.close();
  });

  it('update live as batches arrive', async () => {
    const { page } = viz;
    const run = generateScenario({ events: 6000, paging: 'shadow' });
    // Every count the page shows on the way, recorded in the page (polling from here could miss
    // the batches on a loaded machine: they arrive every 40 ms).
    await page.evaluate(() => {
      const seen: number[] = ((globalThis as any).__exitCounts = []);
      const record = () => {
        const n = Number(document.querySelector('[data-testid="exits-total"][data-vm="1"]')?.getAttribute('data-count') ?? NaN);
        if (!Number.isNaN(n) && seen.at(-1) !== n) seen.push(n);
      };
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-count'] });
    });
    await page.getByTestId('play-live').click();
    const exits = page.locator('[data-testid="exits-total"][data-vm="1"]');
    const final = run.events.filter((e) => e.kind === 'exit' && e.vm === 1).length;
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events'), { timeout: 20_000 }).toBe(String(run.events.length));
    expect(await exits.getAttribute('data-count')).toBe(String(final));
    // On the way: counts part-way (some exits, not all of them yet), never going down.
    // (The page had the whole run loaded before Play live: count from where it was emptied.)
    const all = (await page.evaluate(() => (globalThis as any).__exitCounts)) as number[];
    const seen = all.slice(all.indexOf(Math.min(...all)));
    expect(seen.filter((n) => n > 0 && n < final).length, `the counts shown: ${all.join(', ')}`).toBeGreaterThan(0);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    // The app follows its session's event list with sync(): cut back (a step back), then grown again.
    // (The run starts with a frame event for every frame of guest memory given up front: cut after those.)
    const start = run.events.findIndex((e) => e.kind !== 'frame');
    const cut = run.events[start + 999]!.seq;
    await page.evaluate((seq) => { const hv = (globalThis as any).__viz.hv; hv.sync(hv.events.filter((e: { seq: number }) => e.seq <= seq)); }, cut);
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(start + 1000));
    expect(await exits.getAttribute('data-count')).toBe(String(run.events.filter((e) => e.kind === 'exit' && e.vm === 1 && e.seq <= cut).length));
    await page.evaluate((all) => (globalThis as any).__viz.hv.sync(all.slice(0, all.length - 500)), run.events as unknown[]);
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length - 500));
  });

  it('open a saved NDJSON trace, frame lines included, and report a bad line by number', async () => {
    const { page } = viz;
    const run = generateScenario({ events: 3000, paging: 'nested', vms: 2 });
    const lines = [JSON.stringify({ 'vizor-trace': 1, params: { vms: run.info.vms, sched: 'credit', hostFrames: run.info.hostFrames } }), ...run.events.map((e) => eventLine(e))];
    await page.getByTestId('open-trace').setInputFiles({ name: 'run.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(lines.join('\n') + '\n') });
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
    expect(await page.locator('[data-testid="hv-vms"] .card').count()).toBe(2);
    const bad = [...lines];
    bad[5] = bad[5]!.replace('"kind":', '"kind":1,"x":');
    await page.getByTestId('open-trace').setInputFiles({ name: 'bad.ndjson', mimeType: 'application/x-ndjson', buffer: Buffer.from(bad.join('\n') + '\n') });
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/^bad\.ndjson: line 6: /);
  });

  it('open a binary trace (.vzt) through the file input; a corrupt or truncated one names the byte, and what is open stays', async () => {
    const { page } = viz;
    const run = generateScenario({ events: 5000, paging: 'shadow', vms: 3, weights: [100, 200, 400] });
    const params = { vms: run.info.vms, sched: 'credit', hostFrames: run.info.hostFrames, hvFrames: run.info.hvFrames };
    const file = Buffer.from(encodeTraceFile(run.events, params, 1024));
    await page.getByTestId('open-trace').setInputFiles({ name: 'run.vzt', mimeType: 'application/octet-stream', buffer: file });
    await expect.poll(() => page.getByTestId('loaded').getAttribute('data-events')).toBe(String(run.events.length));
    expect(await page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
    for (const v of run.info.vms) {
      const exits = run.events.filter((e) => e.kind === 'exit' && e.vm === v.vm).length;
      expect(await page.locator(`[data-testid="exits-total"][data-vm="${v.vm}"]`).getAttribute('data-count')).toBe(String(exits));
      await expect.poll(() => page.locator(`[data-testid="hv-vms"] [data-vm="${v.vm}"] [data-testid="vm-exits"]`).innerText()).toBe(exits.toLocaleString('en-US'));
      const guest = run.events.reduce((a, e) => a + (e.kind === 'frame' && e.owner === 'guest' && e.ownerVm === v.vm ? (e.op === 'alloc' ? 1 : -1) : 0), 0);
      expect(await page.locator(`[data-testid="hv-memory"] [data-owner="g${v.vm}"]`).getAttribute('data-count')).toBe(String(guest));
    }
    // The weights came from the file's header: entitled shares 1/7, 2/7, 4/7.
    expect(await page.locator('[data-testid="hv-shares"]').innerText()).toMatch(/weight 100[\s\S]*weight 200[\s\S]*weight 400/);
    expect(await page.locator('[data-testid="hv-shares"]').innerText()).toContain('57.1%');
    // Stepping back through the file: one event back un-does the last one in every view.
    const lastExit = [...run.events].reverse().find((e) => e.kind === 'exit')!;
    await page.evaluate((seq) => { (globalThis as any).__viz.hv.position = seq - 1; }, lastExit.seq);
    await expect.poll(() => page.locator(`[data-testid="exits-total"][data-vm="${lastExit.vm}"]`).getAttribute('data-count'))
      .toBe(String(run.events.filter((e) => e.kind === 'exit' && e.vm === lastExit.vm && e.seq < lastExit.seq).length));

    // Truncated: the error names the file and the byte; the trace already open stays open.
    const cut = file.subarray(0, file.length - 100);
    await page.getByTestId('open-trace').setInputFiles({ name: 'cut.vzt', mimeType: 'application/octet-stream', buffer: cut });
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/^cut\.vzt: byte \d+: truncated: record \d+ announces \d+ bytes, \d+ remain$/);
    expect(await page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
    // A garbled kind code deep inside: the byte offset points at it.
    const scan = scanTraceFile(new Uint8Array(file).buffer);
    if (!scan.ok) throw new Error(scan.error.message);
    const b = scan.batches[2]!, kindAt = b.columnOffsets[2 + b.wide.length + 2]! + 7;
    const bad = Buffer.from(file);
    bad[kindAt] = 99;
    await page.getByTestId('open-trace').setInputFiles({ name: 'bad.vzt', mimeType: 'application/octet-stream', buffer: bad });
    await expect.poll(() => page.getByRole('alert').innerText()).toBe(`bad.vzt: byte ${kindAt}: event ${2 * 1024 + 8}: unknown kind code 99`);
    expect(await page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
  });
});

describe('hypervisor views: nested paging, dark and presenter', () => {
  const run = generateScenario({ events: EVENTS, paging: 'nested' });
  let viz: VizPage;
  beforeAll(async () => {
    viz = await openViz(`scenario=nested&events=${EVENTS}&theme=dark`);
  });
  afterAll(async () => {
    await viz?.close();
  });

  it('shows the 2-D walk of the last EPT violation with its 8 numbered references, and the memory faulted in', async () => {
    const { page } = viz;
    await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(run.events.length));
    const last = run.events.filter((e) => e.kind === 'pagefault' && e.vm === 0).at(-1)!;
    expect(last.kind === 'pagefault' && last.outcome).toBe('ept-violation');
    await expect.poll(() => page.locator('[data-testid="hv-walk"] [data-step]').allInnerTexts()).toHaveLength(8);
    const steps = await page.locator('[data-testid="hv-walk"] [data-step]').evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-step'))));
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const v of run.info.vms) {
      const nested = run.events.reduce((a, e) => a + (e.kind === 'frame' && e.owner === 'nested' && e.ownerVm === v.vm ? (e.op === 'alloc' ? 1 : -1) : 0), 0);
      expect(await page.locator(`[data-testid="hv-memory"] [data-owner="t${v.vm}"]`).getAttribute('data-count')).toBe(String(nested));
    }
    await vizShot(page, 'dark-all');
    for (const [name, id] of [['timeline', 'hv-timeline'], ['walk', 'hv-walk'], ['memory', 'hv-memory'], ['sched', 'hv-sched'], ['exits', 'hv-exits']]) {
      await vizShot(page, `dark-${name}`, `[data-testid="${id}"]`);
    }
  });

  it('hovering the memory map names the owner of a frame', async () => {
    const { page } = viz;
    const canvas = page.locator('[data-testid="hv-memory"] canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + 3, box.y + 3);
    await expect.poll(() => page.locator('[data-testid="memory-tooltip"]').innerText()).toBe('frame 0 (host 00000000): the hypervisor');
  });

  it('presenter mode makes everything larger', async () => {
    const { page } = viz;
    const before = (await geometry(page)).laneHeight;
    await page.locator('[data-testid="presenter"]').check();
    await expect.poll(async () => (await geometry(page)).laneHeight).toBeGreaterThan(before);
    await page.locator('[data-testid="dark"]').uncheck();
    await page.waitForTimeout(200);
    await vizShot(page, 'presenter-all');
    for (const [name, id] of [['vms', 'hv-vms'], ['timeline', 'hv-timeline'], ['tables', 'hv-tables'], ['walk', 'hv-walk'], ['sched', 'hv-sched']]) {
      await vizShot(page, `presenter-${name}`, `[data-testid="${id}"]`);
    }
  });
});

afterAll(async () => {
  await stopViz();
});
