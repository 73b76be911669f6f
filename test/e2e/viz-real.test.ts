// The hypervisor views on real streams: `vizor run --hv` runs three lesson kernels under shadow
// and under nested paging and writes NDJSON traces; viz.html opens them. The counts on screen are
// checked against the files, and the nested run's last EPT violation must show its 2-D walk.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openViz, stopViz, vizShot } from './viz-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-viz-real-'));
const KERNELS = ['lessons/08-nested-paging/kernel.asm', 'lessons/09-scheduling/kernel.asm', 'lessons/09-scheduling/idle.asm'];

function record(paging: 'shadow' | 'nested'): { file: string; events: Record<string, unknown>[] } {
  const file = join(dir, `${paging}.ndjson`);
  const args = ['bin/vizor.mjs', 'run', '--hv', '--paging', paging, '--sched', 'credit', ...KERNELS.flatMap((k) => ['--vm', k]), '--trace', file];
  const r = spawnSync('node', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 100) throw new Error(`vizor run --hv wrote only ${lines.length} lines (status ${r.status}): ${r.stderr}`);
  return { file, events: lines.slice(1).map((l) => JSON.parse(l) as Record<string, unknown>) };
}

afterAll(async () => {
  await stopViz();
  rmSync(dir, { recursive: true, force: true });
});

describe('hypervisor views on traces of the real hypervisor', () => {
  for (const paging of ['shadow', 'nested'] as const) {
    it(`${paging} paging: every VM's exits, the exits by reason and the switches match the trace`, async () => {
      const { file, events } = record(paging);
      const viz = await openViz('theme=light');
      try {
        const { page } = viz;
        await page.getByTestId('open-trace').setInputFiles(file);
        await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(events.length));
        expect(await page.getByRole('alert').count()).toBe(0);
        for (let vm = 0; vm < KERNELS.length; vm++) {
          const exits = events.filter((e) => e.kind === 'exit' && e.vm === vm).length;
          expect(await page.locator(`[data-testid="exits-total"][data-vm="${vm}"]`).getAttribute('data-count')).toBe(String(exits));
          expect(await page.locator(`[data-testid="hv-vms"] [data-vm="${vm}"] .tech`).innerText()).toContain(paging === 'shadow' ? 'shadow paging' : 'nested paging');
        }
        // Time slices: from each switch to the next one (or the end of the trace), when not empty.
        const lastTick = Math.max(...events.map((e) => e.tick as number));
        const sw = events.filter((e) => e.kind === 'sched' && e.reason !== 'wake');
        const slices = sw.filter((e, i) => (e.to as number) >= 0 && ((sw[i + 1]?.tick as number | undefined) ?? lastTick) > (e.tick as number)).length;
        expect(await page.locator('[data-testid="hv-sched"]').getAttribute('data-switches')).toBe(String(slices));
        if (paging === 'nested') {
          const steps = await page.locator('[data-testid="hv-walk"] [data-step]').count();
          expect(steps).toBe(8);
          expect(await page.locator('[data-testid="hv-walk"] .missed').count()).toBeGreaterThan(0);
        } else {
          expect(await page.locator('[data-testid="hv-walk"] [data-step]').count()).toBeGreaterThan(0);
          expect(await page.locator('[data-testid="hv-tables"] tr[data-op]').count()).toBeGreaterThan(0);
          await vizShot(page, 'real-shadow-walk', '[data-testid="hv-walk"]');
        }
        await vizShot(page, `real-${paging}`);
      } finally {
        await viz.close();
      }
    });
  }
});
