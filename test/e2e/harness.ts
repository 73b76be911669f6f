// Shared set-up for the Chromium end-to-end tests: build the static site once with Vite, serve it
// with Vite's preview server on a free port, and drive Debian's Chromium through playwright-core.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';

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

export interface OpenOptions { colorScheme?: 'light' | 'dark'; hash?: string; width?: number; height?: number }

export async function openApp(opts: OpenOptions = {}): Promise<App> {
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

/**
 * One app for the enclosing describe(): opened before its tests, closed (and the site stopped)
 * after them. Call it in the describe's body; the returned function gives the open app.
 */
export function useApp(opts: OpenOptions = {}): () => App {
  let app: App | undefined;
  beforeAll(async () => {
    app = await openApp(opts);
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await stopSite();
  });
  return () => {
    if (!app) throw new Error('the app did not open');
    return app;
  };
}

/** Waits until the status bar's state is `want` ('paused' by default; a RegExp for "any of"). */
export async function stopped(page: Page, want: 'paused' | 'finished' | RegExp = 'paused'): Promise<void> {
  const state = expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 60_000 });
  if (want instanceof RegExp) await state.toMatch(want);
  else await state.toBe(want);
}

/**
 * Does `action` (a reset, a load, Apply and reset) and waits for the stop it causes, not the one
 * before it: the status's state is already 'paused' before a reset, so only the stop count tells.
 */
export async function afterFreshStop(page: Page, action: () => Promise<unknown>, want: 'paused' | 'finished' | RegExp = 'paused', what = 'the action'): Promise<void> {
  const status = page.locator('[data-testid="status"]');
  const before = Number(await status.getAttribute('data-stops'));
  await action();
  await expect.poll(async () => Number(await status.getAttribute('data-stops')), { timeout: 60_000, message: `${what} did not stop the machine` }).toBeGreaterThan(before);
  await stopped(page, want);
}

/** Presses a debugger key (the app handles them wherever the focus is) and waits for the stop it causes, in state `want`. */
export async function press(page: Page, key: string, want: 'paused' | 'finished' | RegExp = /^(paused|finished)$/): Promise<void> {
  await afterFreshStop(page, () => page.keyboard.press(key), want, key);
}

/** A select of the Machine ⚙ form, by its label's first word. */
export function setting(page: Page, name: string) {
  return page.locator('form.settings label').filter({ hasText: new RegExp(`^\\s*${name}\\b`) }).locator('select');
}

/** The hypervisor's settings in the Machine ⚙ form (the selects' values). */
export interface HvChoice { vms: string; cpu: string; paging: string; sched: string }
const HV_LABELS: Record<keyof HvChoice, string> = { vms: 'VMs', cpu: 'CPU', paging: 'Paging', sched: 'Scheduler' };

/**
 * Machine ⚙ → Run on: vizor's hypervisor → the settings in `choose` → Apply and reset, then waits
 * until the reset machine is paused. `keep` names settings to leave alone but expect (the lesson's own
 * choices, which the form must already show).
 */
export async function useHypervisor(page: Page, choose: Partial<HvChoice> = {}, keep: Partial<HvChoice> = {}): Promise<void> {
  await page.getByRole('button', { name: 'Machine ⚙' }).click();
  await page.locator('[data-testid="hv-mode"]').selectOption({ label: "vizor's hypervisor" });
  for (const [key, value] of Object.entries(choose) as [keyof HvChoice, string][]) await setting(page, HV_LABELS[key]).selectOption(value);
  for (const [key, value] of Object.entries(keep) as [keyof HvChoice, string][]) expect(await setting(page, HV_LABELS[key]).inputValue(), `the form's ${HV_LABELS[key]}`).toBe(value);
  await afterFreshStop(page, () => page.getByRole('button', { name: 'Apply and reset' }).click());
}
