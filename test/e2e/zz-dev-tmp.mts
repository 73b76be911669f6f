import { createServer } from 'vite';
import { chromium } from 'playwright-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
async function main() {
  const server = await createServer({ root: '/work/main', logLevel: 'error', server: { port: 0, host: '127.0.0.1' } });
  await server.listen();
  const url = server.resolvedUrls!.local[0];
  const ctx = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'vz-dev-')), { executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'], viewport: { width: 1280, height: 720 } });
  const page = ctx.pages()[0];
  page.on('pageerror', (e) => console.log('pageerror', e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') console.log('console', m.type(), m.text().slice(0, 200)); });
  const t0 = Date.now();
  await page.goto(url);
  await page.waitForSelector('[data-testid="status"][data-state="paused"]', { timeout: 60000 });
  console.log('dev server app ready in', Date.now() - t0, 'ms');
  await page.keyboard.press('F5');
  await page.waitForSelector('[data-testid="status"][data-state="finished"]', { timeout: 60000 });
  console.log('serial:', await page.locator('[data-testid="serial"]').innerText());
  await ctx.close();
  await server.close();
}
main().catch((e) => { console.error(e); process.exit(1); });
