// Shared set-up for the Chromium end-to-end tests: build the static site once with Vite, serve it
// with Vite's preview server on a free port, and drive Debian's Chromium through playwright-core.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(root, 'test', 'e2e', 'screenshots');

export interface App {
  url: string;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

let built: Promise<{ server: PreviewServer; url: string; outDir: string }> | null = null;

/** Builds the site (once per process) and serves it. */
function site(): Promise<{ server: PreviewServer; url: string; outDir: string }> {
  built ??= (async () => {
    const outDir = mkdtempSync(join(tmpdir(), 'vizor-e2e-site-'));
    // Only the app's page (index.html): other pages of the site have their own tests.
    await build({ root, logLevel: 'error', build: { outDir, emptyOutDir: true, sourcemap: false, rollupOptions: { input: join(root, 'index.html') } } });
    const server = await preview({ root, logLevel: 'error', build: { outDir }, preview: { port: 0, strictPort: false, host: '127.0.0.1' } });
    const url = server.resolvedUrls?.local[0];
    if (!url) throw new Error('vite preview did not report a URL');
    return { server, url, outDir };
  })();
  return built;
}

/** Where the built site is (for bundle sizes). */
export async function siteDir(): Promise<string> {
  return (await site()).outDir;
}

export async function stopSite(): Promise<void> {
  if (!built) return;
  const s = await built;
  await s.server.close();
  rmSync(s.outDir, { recursive: true, force: true });
  built = null;
}

export async function openApp(opts: { colorScheme?: 'light' | 'dark'; hash?: string; width?: number; height?: number } = {}): Promise<App> {
  const { url } = await site();
  const profile = mkdtempSync(join(tmpdir(), 'vizor-e2e-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 720 },
    colorScheme: opts.colorScheme ?? 'light',
  });
  // Functions passed to page.evaluate() are compiled by tsx/esbuild, which may wrap them in its
  // __name() helper: give the page a no-op one.
  await context.addInitScript('globalThis.__name = (f) => f;');
  const page = context.pages()[0] ?? (await context.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url + (opts.hash ?? ''));
  await page.waitForSelector('[data-testid="status"][data-state="paused"]', { timeout: 30_000 });
  return {
    url,
    context,
    page,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
      if (errors.length > 0) throw new Error(`page errors: ${errors.join('; ')}`);
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** The value a register shows in the registers view. */
export async function register(page: Page, name: string): Promise<string> {
  return (await page.locator(`[data-testid="registers"] [data-reg="${name}"] .val`).innerText()).trim();
}
