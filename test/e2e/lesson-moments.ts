// Each lesson's main moment in the app, reached by doing what the lesson's text tells the student
// to do in the app (its "In the app" step), with the figures the text promises asserted on the way.
// lessons-app.test.ts picks the lesson, runs its moment, and saves test/e2e/screenshots/lesson-NN.png.
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { afterFreshStop, press, register, setting } from './harness.ts';
import { LESSON_FILES } from '../../src/ui/lessons/catalog.ts';

type Moment = (page: Page) => Promise<void>;

const status = (page: Page) => page.locator('[data-testid="status"]').innerText();
const step = (page: Page, n: number) => page.locator(`[data-testid="lesson-text"] li[data-step="${n}"]`);

/** The lesson text's step n says this (so the test and the text cannot drift apart unnoticed). */
function says(folder: string, n: number, text: string | RegExp): void {
  const md = LESSON_FILES[`${folder}/lesson.md`]!;
  const steps = md.slice(md.indexOf('## Steps'));
  const m = new RegExp(`^${n}\\. ([\\s\\S]*?)(?=^\\d+\\. |^## )`, 'm').exec(steps);
  expect(m, `${folder} has a step ${n}`).not.toBeNull();
  const flat = m![1]!.replace(/\s+/g, ' ');
  if (typeof text === 'string') expect(flat, `${folder} step ${n}`).toContain(text);
  else expect(flat, `${folder} step ${n}`).toMatch(text);
}

/** Puts the editor's cursor on a line of the open file (by keyboard: the line may be scrolled away). */
async function cursorOn(page: Page, file: string, match: RegExp): Promise<void> {
  const line = LESSON_FILES[file]!.split('\n').findIndex((l) => match.test(l)) + 1;
  expect(line, `${file} has a line ${match}`).toBeGreaterThan(0);
  await page.locator('[data-testid="editor"]').click();
  await page.keyboard.press('Control+Home');
  for (let i = 1; i < line; i++) await page.keyboard.press('ArrowDown');
}

/** "click `label` here, put the cursor on its line in the editor and press F9, then F5". */
async function runToLabel(page: Page, folder: string, n: number, label: string): Promise<void> {
  await step(page, n).locator(`[data-label="${label}"]`).first().click();
  await cursorOn(page, `${folder}/kernel.asm`, new RegExp(`^${label.replace('.', '\\.')}:`));
  await page.keyboard.press('F9');
  await press(page, 'F5');
  await expect.poll(() => status(page)).toMatch(/· breakpoint$/);
}

/** A step's red event name: clicking it adds the event breakpoint. */
async function breakOn(page: Page, n: number, kind: string): Promise<void> {
  await step(page, n).locator(`[data-event="${kind}"]`).first().click();
  await expect.poll(() => page.getByRole('group', { name: 'Event breakpoints' }).getByLabel(kind).isChecked()).toBe(true);
}

/** Machine ⚙ → Run on: vizor's hypervisor (the lesson's choices) → Apply and reset. */
async function underHypervisor(page: Page, mainFile?: string): Promise<void> {
  const folder = await page.locator('[data-testid="lesson-picker"]').inputValue();
  const paging = /^hv:\n(?:\s+.*\n)*?\s+paging: (\w+)/m.exec(LESSON_FILES[`${folder}/lesson.md`]!)?.[1];
  await page.getByRole('button', { name: 'Machine ⚙' }).click();
  if (mainFile) await setting(page, 'Main file').selectOption(mainFile);
  await page.locator('[data-testid="hv-mode"]').selectOption({ label: "vizor's hypervisor" });
  if (paging) expect(await setting(page, 'Paging').inputValue(), `${folder}: the lesson's paging`).toBe(paging);
  await afterFreshStop(page, () => page.getByRole('button', { name: 'Apply and reset' }).click());
  await expect.poll(() => page.locator('[data-testid="hv-banner"]').count()).toBe(1);
}

/** The Events tab's rows (all kinds), most recent last. */
async function events(page: Page): Promise<string[]> {
  await page.getByRole('tab', { name: 'Events' }).click();
  await page.locator('[data-testid="events"]').getByLabel('Kind').selectOption('');
  await page.locator('[data-testid="events"] tbody tr').last().scrollIntoViewIfNeeded(); // the newest are at the bottom
  return (await page.locator('[data-testid="events"] tbody').innerText()).split('\n');
}

/** ▶ Run under the hypervisor, and the VMs' consoles once every VM has ended. */
async function runUnderHypervisor(page: Page, vms: number): Promise<void> {
  await page.locator('[data-testid="hv-run"]').click();
  const consoles = page.locator('[data-testid="hv-consoles"]');
  await expect.poll(() => consoles.locator('section').count(), { timeout: 120_000 }).toBe(vms);
}

export const MOMENTS: Record<string, Moment> = {
  // The bytecode interpreter's results, and the loop that computed them.
  '00-kinds-of-vms': async (page) => {
    says('00-kinds-of-vms', 1, '`0000002a` (42)');
    await page.getByRole('tab', { name: 'Serial' }).click();
    await press(page, 'F5');
    const serial = await page.locator('[data-testid="serial"]').innerText();
    expect(serial).toContain('bytecode result=0000002a');
    expect(serial).toContain('bytecode result=00000014');
    await step(page, 2).locator('[data-label="interpret"]').first().click();
    await expect.poll(() => page.locator('[data-testid="editor"] .view-lines').innerText()).toContain('interpret:');
  },
  // Just after the far jump: CS from GDT entry 1, 32-bit code in the disassembly, the GDT decoded.
  '01-bare-metal': async (page) => {
    says('01-bare-metal', 5, 'Ctrl+F10');
    await cursorOn(page, '01-bare-metal/kernel.asm', /^\s*mov cr0, eax/);
    await press(page, 'Control+F10');
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR0\s+00000010/);
    await press(page, 'F10');
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR0\s+00000011/);
    says('01-bare-metal', 5, 'CR0 becomes 00000011');
    await press(page, 'F10');
    await expect.poll(() => page.locator('[data-testid="registers"]').innerText()).toMatch(/CS\s+0008/);
    await page.getByRole('tab', { name: 'GDT/IDT/TSS' }).click();
    await expect.poll(() => page.locator('[data-testid="tables"]').innerText()).toMatch(/code/i);
    await page.getByRole('tab', { name: 'Disassembly' }).click();
    await expect.poll(() => page.locator('[data-testid="disassembly"]').innerText()).toContain('protected_mode');
  },
  // The #GP's frame on the stack: the error code 0x1234 on top, the return into load_ds under it.
  '02-interrupts': async (page) => {
    says('02-interrupts', 6, 'error code 00001234');
    says('02-interrupts', 6, 'event breakpoint (exception vector=13)');
    await breakOn(page, 6, 'exception vector=13');
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (exception vector=13)');
    // The #DE came first without stopping the machine; the stop is on the #GP.
    const exceptions = (await events(page)).filter((l) => l.includes('exception'));
    expect(exceptions.at(-2)).toMatch(/vector=0 eip=0x100162/);
    expect(exceptions.at(-1)).toMatch(/vector=13 errorCode=0x1234/);
    await page.getByRole('tab', { name: 'Stack' }).click();
    await expect.poll(() => page.locator('[data-testid="stack"]').innerText()).toContain('← ESP');
    const stack = (await page.locator('[data-testid="stack"]').innerText()).split('\n').map((l) => l.trim());
    const top = stack.indexOf('← ESP');
    expect(stack[top - 1]).toBe('00001234');
    expect(stack.slice(top, top + 4).join(' ')).toMatch(/↩ return to load_ds/);
  },
  // The first page fault: CR2, and the walk that ends at a not-present table entry.
  '03-paging': async (page) => {
    says('03-paging', 5, 'CR2 = 00400000');
    await breakOn(page, 5, 'pagefault');
    await press(page, 'F5');
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR2\s+00400000/);
    await step(page, 5).getByRole('button', { name: 'Paging panel' }).click();
    says('03-paging', 5, 'already holds CR2 (0x00400000)');
    expect(await page.getByLabel('Linear address to translate').inputValue()).toBe('0x00400000');
    await page.getByRole('button', { name: 'Walk' }).click();
    const walk = await page.locator('[data-testid="walk"]').innerText();
    expect(walk).toContain('linear 00400000');
    expect(walk).toMatch(/PTE .* = 00000000/);
    expect(walk).toMatch(/not present/);
    // The next fault (a write at `touch`), then to the handler's PTE write and over it.
    await press(page, 'F5');
    expect((await events(page)).filter((l) => l.includes('pagefault')).at(-1)).toMatch(/linear=0x400000 errorCode=0x2/);
    await cursorOn(page, '03-paging/kernel.asm', /^\s*mov \[page_table_high \+ eax \* 4\], edx/);
    await press(page, 'Control+F10');
    await press(page, 'F10');
    await page.getByRole('tab', { name: 'Paging' }).click();
    await page.getByRole('button', { name: 'Walk' }).click();
    await expect.poll(() => page.locator('[data-testid="walk"]').innerText()).toMatch(/physical 0020[0-9a-f]{4}/);
  },
  // The CPUID exit: its qualification and length in the event log, the vendor the VMM reported.
  '04-what-is-a-hypervisor': async (page) => {
    says('04-what-is-a-hypervisor', 5, 'qualification=0x0 instructionLength=0x2');
    says('04-what-is-a-hypervisor', 5, 'event breakpoint (exit reason=CPUID)');
    await underHypervisor(page);
    await breakOn(page, 5, 'exit reason=CPUID');
    await press(page, 'F5');
    await expect.poll(() => status(page)).toContain('event breakpoint (exit reason=CPUID)');
    const rows = await events(page);
    const exit = rows.map((l) => /\bexit\b/.test(l) && l.includes('reason=')).lastIndexOf(true);
    expect(rows[exit]).toMatch(/reason="CPUID" qualification=0x0 instructionLength=0x2/);
    expect(rows.slice(exit + 1).some((l) => /\bentry\b/.test(l))).toBe(true);
    says('04-what-is-a-hypervisor', 5, '756e6547 49656e69 6c65746e');
    expect([await register(page, 'ebx'), await register(page, 'edx'), await register(page, 'ecx')]).toEqual(['756e6547', '49656e69', '6c65746e']);
  },
  // The CR_ACCESS exit of `mov cr3, eax`: the vCPU's CR3 holds what the guest wrote.
  '05-trap-and-emulate': async (page) => {
    says('05-trap-and-emulate', 5, 'qualification=0x3');
    says('05-trap-and-emulate', 5, 'qualification=0x0');
    await underHypervisor(page);
    await breakOn(page, 5, 'exit reason=CR_ACCESS');
    await press(page, 'F5'); // the mov cr0 at cr0_write first
    await expect.poll(() => status(page)).toContain('event breakpoint (exit reason=CR_ACCESS)');
    const cr0Rows = await events(page);
    const cr0Exit = cr0Rows.map((l) => l.includes('reason="CR_ACCESS"')).lastIndexOf(true);
    expect(cr0Rows[cr0Exit]).toMatch(/qualification=0x0 /);
    // After it, as the text says, the hidden fault of the next fetch (the CR0 write dropped the shadow).
    says('05-trap-and-emulate', 5, 'an `EXCEPTION_NMI` exit');
    expect(cr0Rows.slice(cr0Exit + 1).some((l) => l.includes('reason="EXCEPTION_NMI"'))).toBe(true);
    await press(page, 'F5'); // then the mov cr3 at cr3_write
    await expect.poll(() => status(page)).toContain('event breakpoint (exit reason=CR_ACCESS)');
    const rows = await events(page);
    expect(rows.filter((l) => l.includes('reason=')).at(-1)).toMatch(/reason="CR_ACCESS" qualification=0x3 /);
    await page.getByRole('tab', { name: 'CR0/CR3/CR4' }).click();
    await expect.poll(() => page.locator('[data-testid="control-registers"]').innerText()).toMatch(/CR3\s+00001000/);
  },
  // POPF deprivileged: stepped over in ring 1, IF stays set, CS reads 0x0009.
  '06-virtualization-hole': async (page) => {
    says('06-virtualization-hole', 5, 'CS reads 0x0009');
    await underHypervisor(page);
    await runToLabel(page, '06-virtualization-hole', 5, 'do_popf');
    await press(page, 'F10');
    expect(parseInt(await register(page, 'eflags'), 16) & 0x200, 'IF stays set').toBe(0x200);
    await expect.poll(() => page.locator('[data-testid="registers"]').innerText()).toMatch(/CS\s+0009/);
  },
  // Real mode: a breakpoint on the program's `int 0x10` (its section runs at 0800:xxxx, matched by
  // CS:IP offset), into the BIOS call, and the interrupt vector table at address 0.
  '11-legacy-real-mode': async (page) => {
    says('11-legacy-real-mode', 5, 'put the cursor on the `int 0x10` line in `putc`, press F9');
    says('11-legacy-real-mode', 5, 'at CS=0800');
    await cursorOn(page, '11-legacy-real-mode/kernel.asm', /^\s*int 0x10\b/);
    await page.keyboard.press('F9');
    await press(page, 'F5');
    await expect.poll(() => page.locator('[data-testid="registers"]').innerText()).toMatch(/CS\s+0800/);
    const before = await register(page, 'eip');
    await press(page, 'F11');
    expect(await register(page, 'eip')).not.toBe(before);
    await step(page, 5).getByRole('button', { name: 'Memory panel' }).click();
    await page.getByLabel('Address or symbol').fill('0');
    await page.getByLabel('Address or symbol').press('Enter');
  },
  // The probe's first touch under nested paging: an EPT violation, in the Hypervisor tab's walk.
  '08-nested-paging': async (page) => {
    says('08-nested-paging', 3, 'at linear 00400000, guest-physical 00800000');
    await underHypervisor(page);
    await runToLabel(page, '08-nested-paging', 3, 'pass_a');
    await breakOn(page, 3, 'pagefault');
    await press(page, 'F5');
    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const what = page.locator('[data-testid="hv-walk"] .what');
    await expect.poll(() => what.innerText()).toMatch(/EPT violation .*at linear 00400000, guest-physical 00800000/);
    await what.scrollIntoViewIfNeeded();
  },
  // Three VMs round-robin: the scheduler Gantt chart and the shares.
  '09-scheduling': async (page) => {
    says('09-scheduling', 3, '33.3% each');
    await underHypervisor(page);
    await runUnderHypervisor(page, 3);
    await page.getByRole('tab', { name: 'Hypervisor' }).click();
    const sched = page.locator('[data-testid="hv-sched"]');
    await expect.poll(() => sched.locator('[data-testid="hv-shares"]').innerText(), { timeout: 30_000 }).toMatch(/vm2[\s\S]*33\.3%/);
    expect((await sched.locator('[data-testid="hv-shares"]').innerText()).match(/33\.3%/g)?.length).toBeGreaterThanOrEqual(3);
    await sched.scrollIntoViewIfNeeded();
    await step(page, 3).scrollIntoViewIfNeeded();
  },
  // The hostile kernel in the VMs: each VM dies alone, the hypervisor and the page go on.
  '10-isolation': async (page) => {
    says('10-isolation', 6, 'Main file');
    await underHypervisor(page, 'hostile.asm');
    await runUnderHypervisor(page, 2);
    await page.getByRole('tab', { name: 'VMs' }).click();
    for (const vm of [0, 1]) {
      await expect.poll(() => page.locator(`[data-testid="hv-consoles"] section[data-vm="${vm}"]`).innerText()).toMatch(/triple fault/i);
    }
    await step(page, 6).scrollIntoViewIfNeeded();
  },
};
