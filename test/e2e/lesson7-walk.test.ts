// Lesson 7 (shadow page tables) walked in Chromium exactly as its text says, steps 7 to 14: the
// lesson's settings put under vizor's hypervisor (VT-x, shadow paging), a breakpoint on `pass1`
// to get past the start-up code, an event breakpoint on `pagefault`, F5, the hidden fault's
// linear address and the shadow entry it filled, a step back that undoes the fill, the injected
// true fault's CR2 and error code, the guest handler's page-table write, the counts, and Check.
// The expectations are the figures the text gives the student; each one is read from the app.
// Screenshots: test/e2e/screenshots/lesson7-*.png.
import { describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, press, register, screenshot, useApp, useHypervisor } from './harness.ts';
import { LESSON_FILES } from '../../src/ui/lessons/catalog.ts';

const TEXT = LESSON_FILES['07-shadow-paging/lesson.md']!;
const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const step = (page: Page, n: number) => page.locator(`[data-testid="lesson-text"] li[data-step="${n}"]`);
const hvViews = (page: Page) => page.locator('[data-testid="hv-views"]');
const walkHeading = (page: Page) => hvViews(page).locator('[data-testid="hv-walk"] .what').innerText();
const shadowRow = (page: Page, linear: string) => hvViews(page).locator(`[data-testid="hv-tables"] tr[data-linear="${linear}"]`);
const vmCard = (page: Page) => hvViews(page).locator('[data-testid="hv-vms"] [data-vm="0"] .nums').innerText();

async function tab(page: Page, name: string | RegExp): Promise<void> {
  await page.getByRole('tab', { name }).click();
}

/** The text of step n in lesson.md (the source the pane renders), for checking that a figure the test expects is what the text says. */
function stepText(n: number): string {
  const m = new RegExp(`^${n}\\. ([\\s\\S]*?)(?=^\\d+\\. |^## )`, 'm').exec(TEXT.slice(TEXT.indexOf('## Steps')));
  if (!m) throw new Error(`lesson 7 has no step ${n}`);
  return m[1]!.replace(/\s+/g, ' ');
}

describe('lesson 7, walked in the app as its text says', () => {
  const app = useApp({ width: 1600, height: 1000 });

  it('steps 7-14: hidden faults, the shadow entry, step back, the injected fault, Check; and step 8\'s warning', async () => {
    const { page } = app();
    // Pick the lesson in the picker.
    await afterFreshStop(page, () => page.locator('[data-testid="lesson-picker"]').selectOption('07-shadow-paging'));
    await expect.poll(() => page.locator('[data-testid="lesson-title"]').innerText()).toContain('Shadow page tables');

    // Step 7: Machine ⚙ → Run on: vizor's hypervisor (1 VM, VT-x, shadow already chosen) → Apply and reset.
    expect(stepText(7)).toContain('Apply and reset');
    await useHypervisor(page, {}, { vms: '1', cpu: 'vtx', paging: 'shadow' });
    await expect.poll(() => page.locator('[data-testid="hv-banner"]').innerText()).toMatch(/debugger drives\s+VM 0\s+'s vCPU/);
    expect(await page.getByRole('tab', { name: 'Hypervisor' }).count()).toBe(1);
    await screenshot(page, 'lesson7-1-hypervisor-mode');

    // Step 8: click `pass1`, put the cursor on its line, F9, F5 → "breakpoint 00100127".
    expect(stepText(8)).toContain('001000E4');
    expect(stepText(8)).toMatch(/breakpoint`.*EIP.* is 00100127/);
    await step(page, 8).locator('[data-label="pass1"]').click();
    const pass1Line = page.locator('[data-testid="editor"] .view-line', { hasText: /^pass1:/ });
    await pass1Line.waitFor({ timeout: 10_000 });
    const lineBox = await pass1Line.boundingBox();
    await pass1Line.click({ position: { x: 20, y: (lineBox?.height ?? 10) / 2 } }); // on the text, as a student clicks
    await page.keyboard.press('F9');
    await expect.poll(() => page.getByRole('tab', { name: /Breakpoints/ }).innerText()).toMatch(/1/);
    await press(page, 'F5');
    await expect.poll(() => status(page)).toMatch(/· breakpoint$/);
    expect(await register(page, 'eip')).toBe('00100127');
    await screenshot(page, 'lesson7-2-at-pass1');

    // Step 9: click `pagefault` (event breakpoint), F5 → hidden fault at 00401000; the shadow row filled.
    await step(page, 9).locator('[data-event="pagefault"]').click();
    await expect.poll(() => page.locator('[data-testid="breakpoints"] label', { hasText: 'pagefault' }).locator('input').isChecked()).toBe(true);
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault)');
    const eipAfterRead = await register(page, 'eip');
    expect(eipAfterRead).toBe('0010012c'); // one instruction (mov eax, [0x401000], 5 bytes) past pass1
    await step(page, 9).getByRole('button', { name: 'Hypervisor tab' }).click();
    await expect.poll(() => walkHeading(page)).toMatch(/hidden fault \(fixed by the hypervisor\) at linear 00401000, guest-physical 00301000/);
    expect(stepText(9)).toContain('hidden fault (fixed by the hypervisor) at linear 00401000, guest-physical 00301000');
    const row = shadowRow(page, '00401000');
    await expect.poll(() => row.getAttribute('data-op')).toBe('fill');
    const rowText = await row.innerText();
    expect(rowText).toContain('00301023'); // the guest PTE, as step 9 says
    expect(stepText(9)).toContain('00301023');
    expect(rowText).toMatch(/○1/);
    expect(rowText).not.toContain('not shadowed');
    // "The shadow entry is read-only although the guest's is writable."
    const shadowPte = parseInt((await row.locator('td.pte').nth(1).locator('.mono').innerText()).trim(), 16);
    expect(shadowPte & 1).toBe(1);
    expect(shadowPte & 2).toBe(0);
    const hiddenAtFill = Number((await vmCard(page)).match(/([\d,]+)\s+hidden faults/)![1]!.replace(/,/g, ''));
    expect(hiddenAtFill).toBeGreaterThan(3); // the start-up code's hidden faults, which step 8 skipped
    await row.scrollIntoViewIfNeeded();
    await screenshot(page, 'lesson7-3-hidden-fault-fill');
    await screenshot(page, 'lesson-07'); // the lesson's main moment, with the others from lessons-app.test.ts

    // Step 10: Shift+F10 → back at 00100127, the row not shadowed; F5 brings the same fault back.
    await press(page, 'Shift+F10');
    expect(await register(page, 'eip')).toBe('00100127');
    await expect.poll(() => shadowRow(page, '00401000').innerText().catch(() => 'no row')).toMatch(/not shadowed|no row/);
    await expect.poll(async () => Number((await vmCard(page)).match(/([\d,]+)\s+hidden faults/)![1]!.replace(/,/g, ''))).toBe(hiddenAtFill - 1);
    await screenshot(page, 'lesson7-4-stepped-back');
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault)');
    expect(await register(page, 'eip')).toBe(eipAfterRead);
    await expect.poll(() => walkHeading(page)).toContain('at linear 00401000');

    // Step 11: F5 twice → 00402000, 00403000.
    for (const linear of ['00402000', '00403000']) {
      expect(stepText(11)).toContain(linear);
      await press(page, 'F5');
      await expect.poll(() => status(page)).toContain('event breakpoint (pagefault)');
      await expect.poll(() => walkHeading(page)).toContain(`hidden fault (fixed by the hypervisor) at linear ${linear}`);
      await expect.poll(() => shadowRow(page, linear).getAttribute('data-op')).toBe('fill');
    }
    expect(await vmCard(page)).toMatch(/\b0\s+true faults?\b/);

    // Step 12: F5 → in pf_handler; injected #PF in the Events tab; CR2, the error code on the stack, 1 true fault.
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault)');
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('pf_handler:');
    await tab(page, 'Disassembly');
    await expect.poll(() => page.locator('[data-testid="disassembly"] .current, [data-testid="disassembly"] [aria-current="true"]').first().innerText().catch(() => '')).toMatch(/push\s+eax/);
    await expect.poll(() => vmCard(page)).toMatch(/\b1\s+true fault\b/);
    await expect.poll(() => walkHeading(page)).toContain('at linear 00104ffc');
    expect(stepText(12)).toMatch(/00104FFC/i);
    await tab(page, 'Events');
    await page.locator('[data-testid="events"]').getByLabel('Kind').selectOption('pagefault');
    await page.locator('[data-testid="events"] tbody tr').last().scrollIntoViewIfNeeded(); // "the newest rows are at the bottom"
    const faults = (await page.locator('[data-testid="events"] tbody').innerText()).split('\n').filter((l) => l.includes('pagefault'));
    const injected = faults.findIndex((l) => l.includes('outcome="injected"'));
    expect(injected).toBeGreaterThanOrEqual(0);
    expect(faults[injected]).toContain('linear=0x400000');
    expect(faults[injected]).toContain('errorCode=0x2');
    expect(stepText(12)).toContain('outcome="injected" linear=0x400000 errorCode=0x2');
    // ... then the two hidden faults of its delivery: the IDT entry (idt + 14 * 8), then the stack.
    const delivery = faults.slice(injected + 1);
    expect(delivery.map((l) => /outcome="(\w+)" linear=(0x[0-9a-f]+)/.exec(l)?.slice(1).join(' '))).toEqual(['hidden 0x109070', 'hidden 0x104ffc']);
    expect(stepText(12)).toMatch(/00109070.*00104FFC/);
    await screenshot(page, 'lesson7-5-injected-events');
    await tab(page, 'CR0/CR3/CR4');
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR2\s+00400000/);
    await step(page, 12).getByRole('button', { name: 'Stack tab' }).click();
    await expect.poll(() => page.locator('[data-testid="stack"]').innerText()).toContain('← ESP');
    const stack = (await page.locator('[data-testid="stack"]').innerText()).split('\n').map((l) => l.trim());
    const top = stack.indexOf('← ESP');
    expect(stack[top - 1]).toBe('00000002'); // the error code, on top
    expect(stack.slice(top, top + 5).join(' ')).toMatch(/00100138\s+↩ return to pass1_write/);
    await screenshot(page, 'lesson7-6-injected-stack');

    // Step 13: F5 → error code 3 at `inc dword [faults]`; F5 → the write at map_pte to pt_high (00108000).
    await press(page, 'F5');
    await tab(page, 'Events');
    let last = (await page.locator('[data-testid="events"] tbody').innerText()).split('\n').filter((l) => l.includes('pagefault')).at(-1)!;
    expect(last).toContain('outcome="hidden"');
    expect(last).toContain('errorCode=0x3');
    await press(page, 'F5');
    await page.locator('[data-testid="events"]').getByLabel('Kind').selectOption('');
    const rows = (await page.locator('[data-testid="events"] tbody').innerText()).split('\n');
    last = rows.filter((l) => l.includes('pagefault')).at(-1)!;
    expect(last).toMatch(/outcome="hidden" linear=0x108000 .*errorCode=0x3/);
    expect(stepText(13)).toContain('00108000');
    expect(rows.slice(-6).join('\n')).toMatch(/shadow\s+op="invalidate"/);
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('map_pte:');
    await screenshot(page, 'lesson7-7-page-table-write');
    // Untick pagefault and run to the end: the same output as the bare run, one guest page fault.
    await step(page, 13).getByRole('button', { name: 'Breakpoints tab' }).click();
    await page.getByRole('group', { name: 'Event breakpoints' }).getByLabel('pagefault').uncheck();
    await page.keyboard.press('F5');
    await expect.poll(() => page.locator('[data-testid="status"]').getAttribute('data-state'), { timeout: 60_000 }).toBe('finished');
    await step(page, 13).getByRole('button', { name: 'Serial tab' }).click();
    await expect.poll(() => page.locator('[data-testid="serial"]').innerText()).toContain('guest page faults=00000001');
    for (const line of ['lesson 7: shadow page tables', 'guest #PF at 00400000', 'after invlpg=00001001', 'done']) {
      expect(await page.locator('[data-testid="serial"]').innerText()).toContain(line);
    }
    await tab(page, 'Hypervisor');
    await expect.poll(() => vmCard(page)).toMatch(/\b1\s+true fault\b/);
    await screenshot(page, 'lesson7-8-finished');

    // Step 14: ✔ Check → "The lesson checks out", the three runs matching.
    const result = page.locator('[data-testid="lesson-result"]');
    const before = Number(await result.getAttribute('data-checks'));
    await page.locator('[data-testid="lesson-check"]').click();
    await expect.poll(async () => Number(await result.getAttribute('data-checks')), { timeout: 120_000 }).toBeGreaterThan(before);
    const verdict = await result.innerText();
    expect(verdict).toContain('The lesson checks out');
    expect(stepText(14)).toContain('The lesson checks out');
    for (const run of ['bare machine', 'shadow paging', 'nested paging, for comparison']) expect(verdict).toMatch(new RegExp(`${run}[^\\n]*matches`));
    await screenshot(page, 'lesson7-9-check');

    // Step 8's warning: without running to `pass1` first, the first `pagefault` stop is the fetch of
    // `_start`'s first instruction (linear 001000E4, error code 0).
    await tab(page, /Breakpoints/);
    await page.getByRole('group', { name: 'Event breakpoints' }).getByLabel('pagefault').check();
    await press(page, 'Shift+F5');
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault)');
    await tab(page, 'Hypervisor');
    await expect.poll(() => walkHeading(page)).toContain('hidden fault (fixed by the hypervisor) at linear 001000e4');
    expect(await register(page, 'eip')).toBe('001000e4');
    await tab(page, 'Events');
    await page.locator('[data-testid="events"]').getByLabel('Kind').selectOption('pagefault');
    expect(await page.locator('[data-testid="events"] tbody').innerText()).toMatch(/outcome="hidden" linear=0x1000e4 physical=0x1000e4 errorCode=0x0 eip=0x1000e4/);

    // ... and, as step 8 says, a condition does not help: `pagefault outcome=hidden` stops there too.
    expect(stepText(8)).toContain('`pagefault outcome=hidden` would stop on the same faults');
    const events = page.getByRole('group', { name: 'Event breakpoints' });
    await tab(page, /Breakpoints/);
    await events.getByLabel('Enabled: pagefault', { exact: true }).uncheck();
    await step(page, 8).locator('[data-event="pagefault outcome=hidden"]').click();
    await expect.poll(() => events.getByLabel('Enabled: pagefault outcome=hidden', { exact: true }).isChecked()).toBe(true);
    await press(page, 'Shift+F5');
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (pagefault outcome=hidden)');
    expect(await register(page, 'eip')).toBe('001000e4');
  }, 300_000);
});
