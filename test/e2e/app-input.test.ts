// The app's time travel with events and typed input, end to end in Chromium:
// - a click on an event in the event log goes exactly to just after it, also after HLT idles
//   (fixtures/kernels/pit-timer.asm: its ticks run far ahead of its instruction counts);
// - keys typed on the VGA screen and bytes typed on the serial console are replayed after going
//   back in time (test/unit/debug-input-kernel.asm): the same registers, screen and console again;
// - under the hypervisor, typing reaches the focused VM's own UART (an echo kernel on 2 VMs), and
//   switching the focus away and back keeps step back.
// Screenshots: test/e2e/screenshots/app-input-*.png.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, openApp, press, register, screenshot, stopSite, stopped } from './harness.ts';
import { encodeShare } from '../../src/ui/model/share.ts';
import type { HvConfig } from '../../src/worker/protocol.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
const lib = ['mb.inc', 'sys.inc', 'end.inc', 'check.inc'].map((f) => ({ name: `lib/${f}`, text: readFileSync(join(KERNELS, 'lib', f), 'utf8') }));

async function link(main: string, text: string, hv: HvConfig = { mode: 'bare', vms: 1, cpu: 'vtx', paging: 'shadow', sched: 'rr' }): Promise<string> {
  return '#' + (await encodeShare({ main, files: [{ name: main, text }, ...lib], machine: { memoryMiB: 16, boot: { kind: 'multiboot' }, hv } }));
}

const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const serial = (page: Page) => page.locator('[data-testid="serial"]').innerText();
const instructions = async (page: Page) => Number((await status(page)).match(/([\d,]+) instructions/)![1]!.replace(/,/g, ''));

afterAll(async () => {
  await stopSite();
});

describe('time travel with events and typed input', () => {
  it('a click on an event after HLT idles lands just after it', async () => {
    const app = await openApp({ hash: await link('pit-timer.asm', readFileSync(join(KERNELS, 'pit-timer.asm'), 'utf8')) });
    const { page } = app;
    try {
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'F5', 'finished');
      await expect.poll(() => serial(page)).toContain('pit-timer done');

      await page.getByRole('tab', { name: 'Events' }).click();
      await page.getByLabel('Kind').selectOption('console');
      const rows = page.locator('[data-testid="events"] tbody tr');
      const details = await rows.locator('.detail').allInnerTexts();
      // The console as it stood after each console event; the one that completed "tick=00000002".
      const texts = details.map((d) => JSON.parse(d.match(/text=(".*")$/)![1]!) as string);
      let sofar = '';
      const upto = texts.map((t) => (sofar += t));
      const i = upto.findIndex((t) => t.endsWith('tick=00000002'));
      expect(i).toBeGreaterThan(0);
      const tick = Number(await rows.nth(i).locator('button.tick').innerText());
      await afterFreshStop(page, () => rows.nth(i).locator('button.tick').click());
      await expect.poll(() => status(page)).toMatch(/went to event #\d+/);
      // The tick ran ahead of the instructions while the CPU slept in HLT (a seek by tick would overshoot).
      expect(tick).toBeGreaterThan((await instructions(page)) + 10_000);
      // The log now ends with that event.
      await expect.poll(() => rows.count()).toBe(i + 1);
      await screenshot(page, 'app-input-event-click');
      // Exactly there: the console holds that character and nothing after it.
      await page.getByRole('tab', { name: 'Serial' }).click();
      await expect.poll(() => serial(page)).toBe(upto[i]!.replace(/\r/g, ''));
    } finally {
      await app.close();
    }
  }, 180_000);

  it('keys and serial bytes typed while running are replayed after going back', async () => {
    const app = await openApp({ hash: await link('keys.asm', readFileSync(join(import.meta.dirname, '../unit/debug-input-kernel.asm'), 'utf8')) });
    const { page } = app;
    try {
      await page.locator('[data-testid="editor"]').click();
      await page.keyboard.press('F5');
      await expect.poll(() => serial(page)).toContain('type something');
      await page.getByRole('tab', { name: 'VGA screen' }).click();
      const vga = page.locator('[data-testid="vga"]');
      await vga.click();
      for (const k of ['v', 'i', 'z']) {
        await page.keyboard.press(k);
        await page.waitForTimeout(120);
      }
      await expect.poll(() => vga.innerText()).toContain('viz');
      await page.getByRole('tab', { name: 'Serial' }).click();
      await page.locator('[data-testid="serial"]').click();
      await page.keyboard.type('ok', { delay: 120 });
      await page.getByRole('tab', { name: 'VGA screen' }).click();
      await page.locator('[data-testid="vga"]').click();
      await page.keyboard.press('r');
      await page.waitForTimeout(120);
      await page.keyboard.press('s');
      await stopped(page, 'finished');
      const screen = await vga.innerText();
      expect(screen).toContain('vizrs');
      const esi = await register(page, 'esi');
      await page.getByRole('tab', { name: 'Serial' }).click();
      const console1 = await serial(page);
      expect(console1).toMatch(/ok\s*\nsum=/);
      await screenshot(page, 'app-input-typed');

      // Back to the start of the history, then run again: the inputs come back where they went in.
      await afterFreshStop(page, () => page.getByTestId('reverse-continue').click());
      await expect.poll(() => status(page)).toContain('start of the recorded history');
      expect(await register(page, 'esi')).not.toBe(esi);
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'F5', 'finished');
      expect(await register(page, 'esi')).toBe(esi);
      expect(await serial(page)).toBe(console1);
      await page.getByRole('tab', { name: 'VGA screen' }).click();
      expect(await page.locator('[data-testid="vga"]').innerText()).toBe(screen);
      await screenshot(page, 'app-input-replayed');
    } finally {
      await app.close();
    }
  }, 180_000);

  it('under the hypervisor typing reaches the focused VM, and each vCPU keeps its history across focus switches', async () => {
    const echo = [
      '; echoes what arrives on COM1, polling (each VM its own UART)',
      '%include "lib/mb.inc"',
      'START',
      '    PRINTLN "echo ready"',
      'poll:',
      '    mov dx, COM1 + 5',
      '    in al, dx',
      '    test al, 1',
      '    jz poll',
      '    mov dx, COM1',
      '    in al, dx',
      '    call putc',
      '    jmp poll',
      '%include "lib/end.inc"',
      '',
    ].join('\n');
    const app = await openApp({ hash: await link('echo.asm', echo, { mode: 'hypervisor', vms: 2, cpu: 'vtx', paging: 'shadow', sched: 'rr', focusVm: 1 }), width: 1400, height: 900 });
    const { page } = app;
    try {
      await expect.poll(() => page.locator('[data-testid="hv-focus"]').inputValue()).toBe('1');
      await page.locator('[data-testid="editor"]').click();
      await page.keyboard.press('F5');
      await expect.poll(() => serial(page), { timeout: 60_000 }).toContain('echo ready');
      await page.locator('[data-testid="serial"]').click();
      await page.keyboard.type('hi vm1', { delay: 60 });
      await expect.poll(() => serial(page), { timeout: 60_000 }).toContain('echo ready\nhi vm1');
      await afterFreshStop(page, () => page.getByTestId('pause').click());
      const at1 = await instructions(page);
      await screenshot(page, 'app-input-hv-vm1');

      // VM 0's console: its own output, not what was typed to VM 1.
      await page.locator('[data-testid="hv-focus"]').selectOption('0');
      await expect.poll(() => status(page)).toContain("follows VM 0's vCPU");
      await expect.poll(() => serial(page)).toContain('echo ready');
      expect(await serial(page)).not.toContain('hi');
      // Run VM 0 a little so that it has a history too.
      await page.locator('[data-testid="editor"]').click();
      for (let i = 0; i < 3; i++) {
        await press(page, 'F11', 'paused');
      }
      await screenshot(page, 'app-input-hv-vm0');

      // Back to VM 1: where it was, its console, and step back still works.
      await page.locator('[data-testid="hv-focus"]').selectOption('1');
      await expect.poll(() => status(page)).toContain("follows VM 1's vCPU");
      await expect.poll(() => serial(page)).toContain('hi vm1');
      const at2 = await instructions(page);
      expect(at2).toBeGreaterThanOrEqual(at1);
      await expect.poll(() => page.getByTestId('step-back').isEnabled()).toBe(true);
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'Shift+F10', 'paused');
      await expect.poll(() => instructions(page)).toBe(at2 - 1);
      // And VM 0 kept its own: back to it, step back too.
      await page.locator('[data-testid="hv-focus"]').selectOption('0');
      await expect.poll(() => status(page)).toContain("follows VM 0's vCPU");
      const at0 = await instructions(page);
      await page.locator('[data-testid="editor"]').click();
      await press(page, 'Shift+F10', 'paused');
      await expect.poll(() => instructions(page)).toBe(at0 - 1);
      await screenshot(page, 'app-input-hv-back');
    } finally {
      await app.close();
    }
  }, 240_000);
});
