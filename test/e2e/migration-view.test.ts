// The live-migration view (migration.html) on real migrations: `node bin/vizor.mjs migrate ...
// --trace` records a pre-copy run that converges, one that hits the round limit, and a post-copy
// run; the page opens each file, and the rounds, the downtime, the per-round bars and the console
// on each host must be the trace's own. The page grid draws every guest page of the VM (64 MiB =
// 16,384 pages), and a page the writer kernel is known to write during round 0 (from its symbol
// table and its documented write rate, not from the trace) shows dirty after round 0 and sending
// in round 1. Screenshots (light, dark, presenter): test/e2e/screenshots/migration-*.png.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type Page } from 'playwright-core';
import { SCREENSHOTS } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'vizor-migration-view-'));
let server: PreviewServer | null = null;

/** Builds migration.html alone (as viz-harness does for viz.html) and serves it. */
async function siteUrl(): Promise<string> {
  const outDir = join(dir, 'site');
  await build({ root, logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false, rollupOptions: { input: join(root, 'migration.html') } } });
  server = await preview({ root, logLevel: 'error', build: { outDir }, preview: { port: 0, strictPort: false, host: '127.0.0.1' } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview did not report a URL');
  return url;
}

type Ev = Record<string, unknown> & { kind: string };
function record(name: string, args: string[], status: number): { file: string; events: Ev[] } {
  const file = join(dir, `${name}.ndjson`);
  const r = spawnSync('node', ['bin/vizor.mjs', 'migrate', ...args, '--trace', file], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status !== status) throw new Error(`vizor migrate exited ${r.status}: ${r.stderr}`);
  return { file, events: readFileSync(file, 'utf8').trim().split('\n').slice(1).map((l) => JSON.parse(l) as Ev) };
}

async function open(url: string, query: string): Promise<{ page: Page; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'vizor-migration-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}migration.html?${query}`);
  await page.waitForFunction(() => (globalThis as { __migration?: boolean }).__migration === true, null, { timeout: 30_000 });
  return {
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The writer's buffer: the guest page of its `buffer` label (vizor asm --map). */
function bufferPage(): number {
  const map = join(dir, 'writer.map.json');
  const r = spawnSync('node', ['bin/vizor.mjs', 'asm', 'fixtures/migration/writer.asm', '-o', join(dir, 'writer.bin'), '--map', map], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`vizor asm failed: ${r.stderr}`);
  const sym = (JSON.parse(readFileSync(map, 'utf8')) as { symbols: { name: string; address: number }[] }).symbols.find((x) => x.name === 'buffer');
  if (!sym) throw new Error('writer.asm has no buffer label');
  return sym.address >>> 12;
}

/** Points at guest page `gfn` on a grid canvas (the whole memory, or the magnified part) and returns the grid's description of it. */
async function hoverPage(page: Page, gfn: number, testid = 'mig-grid'): Promise<string> {
  const grid = page.getByTestId(testid);
  const [cols, cell, gutter, first] = await Promise.all(['data-cols', 'data-cell', 'data-gutter', 'data-first'].map(async (a) => Number(await grid.getAttribute(a))));
  const i = gfn - first!;
  await grid.hover({ position: { x: gutter! + (i % cols!) * cell! + cell! / 2, y: Math.floor(i / cols!) * cell! + cell! / 2 } });
  return page.getByTestId(`${testid}-info`).innerText();
}

const GUEST_PAGES = (64 << 20) / 4096; // vizor migrate's default --mem 64M

const CASES = [
  // status 69 = debug-exit 0x22; the fast writer is cut by --max-instructions (status 8).
  { name: 'precopy', theme: 'light', status: 69, args: ['fixtures/migration/writer.asm', '--at', '11M', '--max-downtime', '5ms'] },
  { name: 'round-limit', theme: 'dark', status: 8, args: ['fixtures/migration/fast-writer.asm', '--at', '100k', '--max-rounds', '4', '--max-downtime', '5ms', '--max-instructions', '20M'] },
  // Lesson 12's kernel in a 16 MiB VM (4,096 pages), on a projector: presenter mode, light.
  { name: 'lesson12', theme: 'light&presenter=1', status: 73, pages: (16 << 20) / 4096, args: ['lessons/12-live-migration/kernel.asm', '--at', '6M', '--max-downtime', '5ms', '--mem', '16M'] },
  { name: 'postcopy', theme: 'dark&presenter=1', status: 69, args: ['fixtures/migration/writer.asm', '--at', '11M', '--postcopy', '--bandwidth', '10M'] },
];

describe('migration view', () => {
  let url: Promise<string> | null = null;
  for (const c of CASES) {
    it(`${c.name}: rounds, downtime, bars and both consoles are the trace's`, async () => {
      url ??= siteUrl();
      const { file, events } = record(c.name, c.args, c.status);
      const mig = events.filter((e) => e.kind === 'migration');
      const rounds = mig.filter((e) => e.phase === 'round-start');
      const downtimeUs = (mig.find((e) => e.phase === 'downtime-end')!.timeUs as number) - (mig.find((e) => e.phase === 'downtime-start')!.timeUs as number);
      const resumeAt = events.findIndex((e) => e.kind === 'migration' && e.phase === 'resume');
      const text = (list: Ev[]) => list.filter((e) => e.kind === 'console').map((e) => e.text as string).join('');
      const v = await open(await url, `theme=${c.theme}`);
      try {
        const { page } = v;
        await page.getByTestId('open-trace').setInputFiles(file);
        await expect.poll(() => page.getByTestId('mig-rounds').getAttribute('data-count')).toBe(String(rounds.length));
        expect(await page.getByRole('alert').count()).toBe(0);
        expect(Number(await page.getByTestId('mig-downtime').getAttribute('data-us'))).toBe(downtimeUs);
        expect(await page.getByTestId('mig-downtime').innerText()).toContain((downtimeUs / 1000).toFixed(3));
        expect(await page.getByTestId('mig-round-bar').count()).toBe(rounds.length);
        expect(await page.getByTestId('mig-final-bar').count()).toBe(1);
        if (c.name === 'postcopy') {
          // Post-copy: no rounds; the bars are the pages fetched on fault and the rest pushed.
          const faults = mig.filter((e) => e.phase === 'remote-fault').length;
          expect(faults).toBeGreaterThan(0);
          expect(await page.getByTestId('mig-postcopy-bar').first().locator('title').textContent()).toBe(`fetched on fault: ${faults} pages sent`);
        }
        expect(await page.getByTestId('console-A').innerText()).toBe(text(events.slice(0, resumeAt)));
        expect(await page.getByTestId('console-B').innerText()).toBe(text(events.slice(resumeAt)));
        // The writer's output across the move is QEMU's for the same kernel without migration.
        if (c.status === 69) expect(text(events)).toBe(readFileSync(join(root, 'fixtures/migration/writer.expected.txt'), 'latin1'));
        // The grid: one cell per guest page of the VM; at the end every page with data is on host B.
        const grid = page.getByTestId('mig-grid');
        const guestPages = ('pages' in c ? c.pages : undefined) ?? GUEST_PAGES;
        expect(Number(await grid.getAttribute('data-pages'))).toBe(guestPages);
        const [cols, cell] = [Number(await grid.getAttribute('data-cols')), Number(await grid.getAttribute('data-cell'))];
        expect((await grid.boundingBox())!.height).toBeCloseTo(Math.ceil(guestPages / cols) * cell, 0);
        const total = mig.find((e) => e.phase === 'start')!.pages as number;
        expect(Number(await grid.getAttribute('data-sent'))).toBeGreaterThanOrEqual(total);
        expect(Number(await grid.getAttribute('data-dirty'))).toBe(0);
        expect(Number(await grid.getAttribute('data-clean'))).toBe(0);
        mkdirSync(SCREENSHOTS, { recursive: true });
        if (c.name === 'precopy') {
          // The writer writes one page of `buffer` per 5 + 2*20000 instructions: from the migration
          // point (11M) on, round 0 (~88 ms = 2.7M instructions) covers pages ~19..~88 of the buffer
          // (mod 256). Page 50 of the buffer is written in the middle of round 0.
          const gfn = bufferPage() + 50;
          const afterRound0 = mig.findIndex((e) => e.phase === 'dirty' && e.round === 0);
          await page.getByTestId('mig-step').fill(String(afterRound0));
          await expect.poll(() => grid.getAttribute('data-dirty')).toBe(String(mig[afterRound0]!.pages));
          const dirtyText = `page ${gfn} (guest-physical 0x${(gfn * 4096).toString(16).padStart(8, '0')}): dirty — written during round 0 after it was sent; it goes again in round 1`;
          expect(await hoverPage(page, gfn)).toBe(dirtyText);
          expect(await hoverPage(page, gfn, 'mig-grid-zoom')).toBe(dirtyText); // the magnified rows where the data is
          await page.screenshot({ path: join(SCREENSHOTS, 'migration-grid-round0.png'), fullPage: true });
          const round1 = mig.findIndex((e) => e.phase === 'round-start' && e.round === 1);
          await page.getByTestId('mig-step').fill(String(round1));
          await expect.poll(() => grid.getAttribute('data-sending')).toBe(String(mig[round1]!.pages));
          expect(await hoverPage(page, gfn)).toContain(': sending — sent in round 1');
          // A page the kernel never touches stays zero; the first page of its code is clean, then sent.
          expect(await hoverPage(page, GUEST_PAGES - 1)).toContain(': zero — never written');
          // Play: the moments advance by themselves.
          await page.getByTestId('mig-step').fill('0');
          await page.getByTestId('mig-play').click();
          await expect.poll(async () => (await page.getByTestId('mig-moment').innerText()).split('/')[0], { timeout: 5000 }).not.toBe('1');
          await page.getByTestId('mig-play').click();
          await page.getByTestId('mig-step').fill(String(mig.length - 1));
        }
        await page.screenshot({ path: join(SCREENSHOTS, `migration-${c.name}.png`), fullPage: true });
      } finally {
        await v.close();
      }
    }, 120_000);
  }
});
