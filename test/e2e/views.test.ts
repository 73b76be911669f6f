// More of the app in Chromium: the machine views after some steps, the speed control (animated
// runs), and a saved trace (recorded here from the real machine) opened for replay.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openApp, register, screenshot, stopSite, type App } from './harness.ts';
import { realCore } from '../../src/worker/core.ts';
import { Emitter } from '../../src/trace/emitter.ts';
import { captureEvents } from '../../src/trace/capture.ts';
import { encodeNdjson } from '../../src/trace/ndjson.ts';
import { DEFAULT_EXAMPLE } from '../../src/ui/examples/index.ts';

describe('machine views', () => {
  let app: App;
  beforeAll(async () => {
    app = await openApp({ hash: '#example=hello' });
  });
  afterAll(async () => {
    await app?.close();
  });

  it('memory, stack, control registers and descriptor tables follow the steps', async () => {
    const { page } = app;
    for (const key of ['F10', 'F10', 'F11']) await page.keyboard.press(key); // into puts
    await expect.poll(() => register(page, 'eip')).toBe('00100046');
    await page.getByRole('tab', { name: 'Stack' }).click();
    await expect.poll(() => page.locator('[data-testid="stack"]').innerText()).toMatch(/0010002f\s+← ESP\s+↩ return to _start\+0xf/);
    await screenshot(page, '20-stack');
    await page.getByRole('tab', { name: 'Memory' }).click();
    await page.getByLabel('Address or symbol').fill('message');
    await expect.poll(async () => (await page.locator('[data-testid="memory"] .ascii').allInnerTexts()).join('')).toContain('Hello from vizor');
    await screenshot(page, '21-memory');
    // Edit a byte while paused: "H" becomes "J".
    await page.locator('[data-testid="memory"] .b').first().dblclick();
    await page.locator('[data-testid="memory"] input.edit').fill('4a');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await page.locator('[data-testid="memory"] .ascii').allInnerTexts()).join('')).toContain('Jello from vizor');
    expect(await page.locator('[data-testid="status"]').innerText()).toContain('memory changed');
    await page.getByRole('tab', { name: 'GDT/IDT/TSS' }).click();
    await expect.poll(() => page.locator('[data-testid="tables"]').innerText()).toContain('code 32-bit, readable');
    await screenshot(page, '22-gdt');
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    const ctl = await page.locator('[data-testid="control-registers"]').innerText();
    expect(ctl).toMatch(/CR0\s+00000011/i);
    await screenshot(page, '23-control');
  });

  it('hovers explain instructions; F12 goes to a label\'s definition', async () => {
    const { page } = app;
    await page.locator('[data-testid="editor"] .view-lines').click();
    await page.keyboard.press('Control+Home');
    const line = page.locator('[data-testid="editor"] .view-line', { hasText: /mov.esp,.stack_top/ });
    const box = (await line.locator('span', { hasText: /^mov$/ }).boundingBox())!;
    await page.mouse.move(400, 300);
    await page.mouse.move(box.x + 6, box.y + 5, { steps: 8 });
    await expect.poll(async () => (await page.locator('.monaco-hover').allTextContents()).join(' '), { timeout: 10_000 }).toContain('Copies the source operand');
    await screenshot(page, '26-hover');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < 22; i++) await page.keyboard.press('ArrowDown'); // "    call puts"
    await page.keyboard.press('Home');
    for (let i = 0; i < 6; i++) await page.keyboard.press('ArrowRight'); // inside "puts"
    await page.keyboard.press('F12');
    await expect.poll(() => page.locator('[data-testid="editor"] .active-line-number').innerText()).toBe('33'); // puts:
  });

  it('runs animated at a slow speed, moving the views, and pauses', async () => {
    const { page } = app;
    await page.locator('.speed input[type=range]').fill('2'); // 20 instructions per second
    const before = Number((await page.locator('[data-testid="status"]').innerText()).match(/([\d,]+) instructions/)![1].replace(/,/g, ''));
    await page.keyboard.press('F5');
    await page.waitForSelector('[data-testid="status"][data-state="running"]');
    await page.waitForTimeout(1000);
    await screenshot(page, '24-animated-run');
    await page.keyboard.press('F5'); // F5 while running = pause
    await page.waitForSelector('[data-testid="status"][data-state="paused"]');
    const after = Number((await page.locator('[data-testid="status"]').innerText()).match(/([\d,]+) instructions/)![1].replace(/,/g, ''));
    expect(after - before).toBeGreaterThanOrEqual(5);
    expect(after - before).toBeLessThanOrEqual(60);
    await page.locator('.speed input[type=range]').fill('4');
  });

  it('runs to the line with the cursor (Ctrl+F10)', async () => {
    const { page } = app;
    await page.locator('[data-testid="editor"] .view-lines').click();
    await page.keyboard.press('Control+Home');
    for (let i = 1; i < 27; i++) await page.keyboard.press('ArrowDown'); // mov al, 0x10
    await page.keyboard.press('Control+F10');
    await expect.poll(() => register(page, 'eip')).toBe('00100040');
  });
});

describe('a saved trace', () => {
  it('opens in the event log and replays without running', async () => {
    // Record a trace of the hello kernel with the real assembler and machine.
    const core = realCore();
    const { bytes } = core.assemble(DEFAULT_EXAMPLE.files, DEFAULT_EXAMPLE.main);
    const emitter = new Emitter();
    const machine = core.createMachine({ memoryBytes: 8 << 20, emitter, serialInput: () => undefined });
    machine.load(bytes!, { kind: 'multiboot' });
    const events = captureEvents(emitter, () => void machine.run(1_000_000));
    expect(events.some((e) => e.kind === 'io')).toBe(true);
    const file = join(mkdtempSync(join(tmpdir(), 'vizor-trace-')), 'hello.ndjson');
    writeFileSync(file, encodeNdjson(events, { program: 'hello.asm' }));

    const app = await openApp({ hash: '#example=hello' });
    try {
      const { page } = app;
      await page.locator('input[type=file]').setInputFiles(file);
      await expect.poll(() => page.getByRole('status').filter({ hasText: 'Replaying the saved trace' }).count()).toBe(1);
      await page.getByRole('tab', { name: 'Events' }).click();
      await expect.poll(() => page.locator('[data-testid="events"] .count').innerText()).toBe(`${events.length} events`);
      await page.getByLabel('Kind').selectOption('shutdown');
      await expect.poll(() => page.locator('[data-testid="events"] tbody').innerText()).toContain('debug-exit');
      await screenshot(page, '25-trace-replay');
    } finally {
      await app.close();
    }
  });
});

afterAll(async () => {
  await stopSite();
});
