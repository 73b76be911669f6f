// The hypervisor views on real streams: `vizor run --hv` runs three lesson kernels under shadow
// and under nested paging and writes the trace as NDJSON and as a binary .vzt file; viz.html
// opens both. The counts on screen are checked against the files (exits, switches, the host
// frames each VM holds), the nested run's last EPT violation must show its 2-D walk, and an event
// breakpoint on a shadow fill must stop on that fill with the tables highlighting its very entry.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { highlightedRows, openViz, stopViz, vizShot } from './viz-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-viz-real-'));
const KERNELS = ['lessons/08-nested-paging/kernel.asm', 'lessons/09-scheduling/kernel.asm', 'lessons/09-scheduling/idle.asm'];
type Ev = Record<string, unknown> & { seq: number; tick: number; vm: number; kind: string };
const hex = (n: number, w = 8) => (n >>> 0).toString(16).padStart(w, '0');

const recorded = new Map<string, string>();
/** Records the run once per paging mode and format (the machine is deterministic: both files hold the same events). */
function record(paging: 'shadow' | 'nested', ext: 'ndjson' | 'vzt'): string {
  const file = join(dir, `${paging}.${ext}`);
  if (recorded.has(file)) return file;
  recorded.set(file, file);
  const args = ['bin/vizor.mjs', 'run', '--hv', '--paging', paging, '--sched', 'credit', '--weight', '1,2,4', ...KERNELS.flatMap((k) => ['--vm', k]), '--trace', file];
  const r = spawnSync('node', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  if (r.status === null || r.status % 2 === 0) throw new Error(`vizor run --hv exited ${r.status}: ${r.stderr}`);
  return file;
}

function readNdjson(file: string): Ev[] {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  if (lines.length < 100) throw new Error(`vizor run --hv wrote only ${lines.length} lines`);
  return lines.slice(1).map((l) => JSON.parse(l) as Ev);
}

/** Frames each owner holds at the end, replayed from the frame events. */
function framesHeld(events: Ev[], owner: string, vm: number): number {
  return events.reduce((a, e) => a + (e.kind === 'frame' && e.owner === owner && e.ownerVm === vm ? (e.op === 'alloc' ? 1 : -1) : 0), 0);
}

afterAll(async () => {
  await stopViz();
  rmSync(dir, { recursive: true, force: true });
});

describe('hypervisor views on traces of the real hypervisor', () => {
  for (const paging of ['shadow', 'nested'] as const) {
    for (const ext of ['ndjson', 'vzt'] as const) {
      it(`${paging} paging, ${ext === 'vzt' ? 'binary' : 'NDJSON'} file: every VM's exits, the exits by reason, the switches and the host frames match the trace`, async () => {
        const events = readNdjson(record(paging, 'ndjson'));
        const file = record(paging, ext);
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
            // The memory map replays the hypervisor's frame events.
            expect(framesHeld(events, 'guest', vm)).toBeGreaterThan(0);
            expect(await page.locator(`[data-testid="hv-memory"] [data-owner="g${vm}"]`).getAttribute('data-count')).toBe(String(framesHeld(events, 'guest', vm)));
            expect(await page.locator(`[data-testid="hv-memory"] [data-owner="t${vm}"]`).getAttribute('data-count')).toBe(String(framesHeld(events, paging, vm)));
          }
          // The weights came from the trace's header.
          expect(await page.locator('[data-testid="hv-shares"]').innerText()).toMatch(/weight 1\b[\s\S]*weight 2\b[\s\S]*weight 4\b/);
          // Time slices: from each switch to the next one (or the end of the trace), when not empty.
          const lastTick = Math.max(...events.map((e) => e.tick));
          const sw = events.filter((e) => e.kind === 'sched' && e.reason !== 'wake');
          const slices = sw.filter((e, i) => (e.to as number) >= 0 && (sw[i + 1]?.tick ?? lastTick) > e.tick).length;
          expect(await page.locator('[data-testid="hv-sched"]').getAttribute('data-switches')).toBe(String(slices));
          if (paging === 'nested') {
            expect(await page.locator('[data-testid="hv-walk"] [data-step]').count()).toBe(8);
            expect(await page.locator('[data-testid="hv-walk"] .missed').count()).toBeGreaterThan(0);
          } else {
            expect(await page.locator('[data-testid="hv-walk"] [data-step]').count()).toBeGreaterThan(0);
            expect(await page.locator('[data-testid="hv-tables"] tr[data-op]').count()).toBeGreaterThan(0);
          }
          if (ext === 'ndjson') await vizShot(page, `real-${paging}`);
          if (ext === 'ndjson' && paging === 'shadow') await vizShot(page, 'real-shadow-walk', '[data-testid="hv-walk"]');
        } finally {
          await viz.close();
        }
      });
    }
  }

  it('shadow paging: an event breakpoint on a shadow fill stops on it, and the highlighted row is its entry', async () => {
    const file = record('shadow', 'vzt');
    const events = readNdjson(record('shadow', 'ndjson'));
    const viz = await openViz('theme=light');
    try {
      const { page } = viz;
      await page.getByTestId('open-trace').setInputFiles(file);
      await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(events.length));
      // Focus the VM with the most fills (its tables), go to the start, and run to its fills one
      // after another: the first few, and one deep into the run.
      const fillsOf = (vm: number) => events.filter((e) => e.kind === 'shadow' && e.op === 'fill' && e.vm === vm);
      const vm = [0, 1, 2].sort((a, b) => fillsOf(b).length - fillsOf(a).length)[0]!;
      const fills = fillsOf(vm);
      expect(fills.length).toBeGreaterThan(5);
      await page.locator(`[data-testid="hv-vms"] [data-vm="${vm}"]`).click();
      const late = fills.length - 2;
      for (const [k, fill] of fills.entries()) {
        if (k >= 4 && k !== late) continue;
        // Start from just after the previous fill of this VM (the start of the run for the first).
        await page.evaluate((seq) => { (globalThis as any).__viz.hv.position = seq; }, k === 0 ? 0 : fills[k - 1]!.seq);
        await page.getByTestId('next-fill').click();
        await expect.poll(() => page.locator('[data-testid="position-readout"]').getAttribute('data-seq')).toBe(String(fill.seq));
        await expect.poll(async () => (await highlightedRows(page)).length).toBe(1);
        const [row] = await highlightedRows(page);
        const linear = fill.linear as number;
        expect(row).toEqual({
          linear: hex(linear & ~0xfff),
          op: 'fill',
          index: hex((linear >>> 12) & 0x3ff, 3),
          page: hex(linear & ~0xfff),
          guestPte: expect.stringContaining(hex(fill.guestPte as number)),
          shadowPte: expect.stringContaining(hex(fill.shadowPte as number)),
        });
      }
      await vizShot(page, 'real-shadow-fill-stop', '[data-testid="hv-tables"]');
    } finally {
      await viz.close();
    }
  });

  it('shadow roots: fixtures/hv/cr3-switch.asm\'s two address spaces, each with its own shadow, the current one shown', async () => {
    const bin = join(dir, 'cr3-switch.bin'), file = join(dir, 'cr3-switch.ndjson');
    const asm = spawnSync('nasm', ['-f', 'bin', '-i', 'fixtures/kernels/', 'fixtures/hv/cr3-switch.asm', '-o', bin], { encoding: 'utf8' });
    if (asm.error) throw asm.error;
    expect(asm.status, asm.stderr).toBe(0);
    const r = spawnSync('node', ['bin/vizor.mjs', 'run', bin, '--multiboot', '--hv', '--paging', 'shadow', '--trace', file], { encoding: 'utf8', timeout: 120_000 });
    expect(r.stdout).toContain('B-extra-before=aaaa0001 B-extra-after=bbbb0002');
    const events = readNdjson(file);
    const A = 0x300000, B = 0x301000;
    // The switches of round 3 (phase mark 3 on port 0x80): both address spaces cached, two hits.
    const mark = (n: number) => events.find((e) => e.kind === 'io' && e.port === 0x80 && e.value === n)?.seq;
    const switches = events.filter((e) => e.kind === 'shadow' && (e.op === 'resync' || e.op === 'flush') && e.guestTable !== undefined && e.linear === 0);
    const round3 = switches.filter((e) => e.seq > (mark(3) ?? Infinity) && e.seq < (mark(4) ?? -1));
    expect(round3.map((e) => [e.op, e.guestTable])).toEqual([['resync', A], ['resync', B]]);
    const viz = await openViz('theme=light');
    try {
      const { page } = viz;
      await page.getByTestId('open-trace').setInputFiles(file);
      await expect.poll(() => page.locator('[data-testid="hv-timeline"]').getAttribute('data-events')).toBe(String(events.length));
      const roots = page.locator('[data-testid="hv-tables"] [data-testid="shadow-roots"] .root');
      for (const [sw, cur, other] of [[round3[0]!, A, B], [round3[1]!, B, A]] as const) {
        await page.evaluate((seq) => { (globalThis as any).__viz.hv.position = seq; }, sw.seq);
        await expect.poll(() => roots.count()).toBe(2);
        expect(await roots.nth(0).getAttribute('data-cr3')).toBe(hex(cur));
        expect(await roots.nth(0).getAttribute('data-current')).toBe('true');
        expect(await roots.nth(0).innerText()).toMatch(/\(current, \d+ entries\)/);
        expect(await roots.nth(1).getAttribute('data-cr3')).toBe(hex(other));
        expect(await roots.nth(1).innerText()).toMatch(/\(cached, \d+ entries\)/);
        // The current space's own pages at 0x800000 (directory entry 2): A's frames at 0x400000, B's at 0x500000.
        const row = page.locator('[data-testid="hv-tables"] .dir[data-dir="2"] tr[data-linear="00800000"]');
        expect(await row.locator('td.pte').first().innerText()).toContain(hex(cur === A ? 0x400000 : 0x500000).slice(0, 5));
        expect(await row.innerText()).not.toContain('not shadowed'); // kept in the cache: nothing to fault back in
        if (cur === A) await vizShot(page, 'real-shadow-roots', '[data-testid="hv-tables"]');
      }
    } finally {
      await viz.close();
    }
  });
});

