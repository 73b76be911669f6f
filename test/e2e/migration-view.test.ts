// The live-migration view (migration.html) on real migrations: `node bin/vizor.mjs migrate ...
// --trace` records a pre-copy run that converges, one that hits the round limit, and a post-copy
// run; the page opens each file, and the rounds, the downtime, the per-round bars and the console
// on each host must be the trace's own. Screenshots: test/e2e/screenshots/migration-*.png.
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

const CASES = [
  // status 69 = debug-exit 0x22; the fast writer is cut by --max-instructions (status 8).
  { name: 'precopy', theme: 'light', status: 69, args: ['fixtures/migration/writer.asm', '--at', '11M', '--max-downtime', '5ms'] },
  { name: 'round-limit', theme: 'dark', status: 8, args: ['fixtures/migration/fast-writer.asm', '--at', '100k', '--max-rounds', '4', '--max-downtime', '5ms', '--max-instructions', '20M'] },
  { name: 'postcopy', theme: 'light&presenter=1', status: 69, args: ['fixtures/migration/writer.asm', '--at', '11M', '--postcopy', '--bandwidth', '10M'] },
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
        // At the end every page is on the destination; the last moment is the one shown.
        const total = mig.find((e) => e.phase === 'start')!.pages as number;
        expect(await page.getByTestId('mig-grid').getAttribute('data-sent')).toBe(String(total));
        expect(await page.locator('[data-testid="mig-grid"] .cell').count()).toBe(total);
        mkdirSync(SCREENSHOTS, { recursive: true });
        await page.screenshot({ path: join(SCREENSHOTS, `migration-${c.name}.png`), fullPage: true });
        if (c.name === 'precopy') {
          // The moment after round 0's dirty report: the grid shows that round's dirty pages.
          const stepIndex = mig.findIndex((e) => e.phase === 'dirty');
          await page.getByTestId('mig-step').fill(String(stepIndex));
          await expect.poll(() => page.getByTestId('mig-grid').getAttribute('data-dirty')).toBe(String(mig[stepIndex]!.pages));
          await page.locator('[data-testid="mig-grid"]').screenshot({ path: join(SCREENSHOTS, 'migration-grid-round0.png') });
        }
      } finally {
        await v.close();
      }
    }, 120_000);
  }
});
