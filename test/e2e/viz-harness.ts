// Set-up for the hypervisor views' Chromium tests and bench: builds viz.html alone with Vite (once
// per process; the app's harness builds only index.html), serves it with Vite's preview server and
// drives Debian's Chromium. Screenshots go to the app harness's folder.
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { SCREENSHOTS } from './harness.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
let served: Promise<{ server: PreviewServer; url: string; outDir: string }> | null = null;

async function vizUrl(): Promise<string> {
  served ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'vizor-viz-site-'));
    await build({ root, logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false, rollupOptions: { input: join(root, 'viz.html') } } });
    const server = await preview({ root, logLevel: 'error', build: { outDir }, preview: { port: 0, strictPort: false, host: '127.0.0.1' } });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report a URL');
    return { server, url, outDir };
  })();
  return (await served).url;
}

export interface VizPage { page: Page; context: BrowserContext; close(): Promise<void> }

/** Opens viz.html with the given query (e.g. 'scenario=nested&theme=dark'). */
export async function openViz(query = '', opts: { width?: number; height?: number; args?: string[] } = {}): Promise<VizPage> {
  const url = await vizUrl();
  const profile = mkdtempSync(join(tmpdir(), 'vizor-viz-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(opts.args ?? [])],
    viewport: { width: opts.width ?? 1600, height: opts.height ?? 1000 },
  });
  await context.addInitScript('globalThis.__name = (f) => f;');
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${url}viz.html${query ? '?' + query : ''}`);
  await page.waitForFunction(() => (globalThis as { __viz?: unknown }).__viz !== undefined, null, { timeout: 30_000 });
  return {
    page,
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}

export async function stopViz(): Promise<void> {
  if (!served) return;
  const s = await served;
  served = null;
  await s.server.close();
  rmSync(s.outDir, { recursive: true, force: true });
}

/** Screenshot of the whole page or of one element, into test/e2e/screenshots/viz-NAME.png. */
export async function vizShot(page: Page, name: string, selector?: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `viz-${name}.png`);
  if (selector) await page.locator(selector).screenshot({ path });
  else await page.screenshot({ path, fullPage: true });
  return path;
}

/** The rows the guest/shadow tables highlight (flash) now: their linear page, last op and cells (index, page, guest PTE, shadow PTE). */
export async function highlightedRows(page: Page): Promise<{ linear: string | null; op: string | null; index: string; page: string; guestPte: string; shadowPte: string }[]> {
  return page.locator('[data-testid="hv-tables"] tr.flash').evaluateAll((rows) => rows.map((r) => {
    const cells = [...r.querySelectorAll('td')].map((td) => (td as HTMLElement).innerText.trim());
    return { linear: r.getAttribute('data-linear'), op: r.getAttribute('data-op'), index: cells[0] ?? '', page: cells[1] ?? '', guestPte: cells[2] ?? '', shadowPte: cells[4] ?? '' };
  }));
}
