// The migration's events tell its story consistently: every phase in order, on a clock that never
// runs backwards, with pages and downtime that agree with the result's own figures.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { Migration } from '../../src/migration/engine.ts';
import type { MigrationEvent } from '../../src/migration/events.ts';

const MB = { kind: 'multiboot' as const, cmdline: 'k ' };

async function migrate(mode: 'precopy' | 'postcopy') {
  const image = await readImage('fixtures/migration/writer.asm');
  const a = new Hypervisor({ hostMemoryBytes: 96 << 20 }), b = new Hypervisor({ hostMemoryBytes: 96 << 20 });
  const src = a.addVm({ image, boot: MB, paging: 'shadow' });
  driveVm(a, src, { instructions: 11_000_000 });
  const seen: MigrationEvent[] = [];
  const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: 50e6, latencyNs: 2e6 }, mode, maxDowntimeNs: 8e6, onEvent: (e) => seen.push(e) });
  const r = m.run({ image, boot: MB, paging: 'shadow' });
  a.release();
  b.release();
  return { r, seen };
}

function orderedClock(events: MigrationEvent[]): void {
  for (let i = 1; i < events.length; i++) expect(events[i]!.timeNs, `${events[i]!.phase} after ${events[i - 1]!.phase}`).toBeGreaterThanOrEqual(events[i - 1]!.timeNs);
}

describe.concurrent('migration events', () => {
  it('pre-copy: start, rounds of round-start / pages-sent / dirty, downtime, resume, done', async () => {
    const { r, seen } = await migrate('precopy');
    expect(seen).toEqual(r.events);
    expect(seen[0]!.phase).toBe('start');
    expect(seen.map((e) => e.phase).slice(-4)).toEqual(['downtime-start', 'downtime-end', 'resume', 'done']);
    orderedClock(seen);
    const rounds = seen.slice(1, -4);
    expect(rounds.length).toBe(3 * r.rounds.length);
    expect(r.rounds.length).toBeGreaterThanOrEqual(2);
    r.rounds.forEach((info, k) => {
      const [start, sent, dirty] = rounds.slice(3 * k, 3 * k + 3);
      expect([start!.phase, sent!.phase, dirty!.phase]).toEqual(['round-start', 'pages-sent', 'dirty']);
      expect(start!.round).toBe(k);
      expect(sent!.pages).toBe(start!.pages);
      expect(sent!.bytes).toBe(start!.pages * 4104);
      expect(dirty!.pages).toBe(info.dirtyAfter);
      if (k > 0) expect(start!.pages).toBe(r.rounds[k - 1]!.dirtyAfter);
    });
    const [down, up, resume] = seen.slice(-4, -1);
    expect(down!.pages).toBe(r.rounds[r.rounds.length - 1]!.dirtyAfter);
    expect(down!.detail).toBe(r.switchover);
    expect(up!.downtimeNs).toBe(Math.round(r.downtimeNs));
    expect(Math.abs(up!.timeNs - down!.timeNs - r.downtimeNs)).toBeLessThanOrEqual(1);
    expect(resume!.timeNs).toBe(up!.timeNs);
  });
  it('post-copy: short downtime, then remote faults for distinct pages, then done', async () => {
    const { r, seen } = await migrate('postcopy');
    expect(seen.map((e) => e.phase).slice(0, 4)).toEqual(['start', 'downtime-start', 'downtime-end', 'resume']);
    expect(seen[seen.length - 1]!.phase).toBe('done');
    orderedClock(seen);
    const faults = seen.filter((e) => e.phase === 'remote-fault');
    expect(faults.length).toBe(r.remoteFaults);
    expect(faults.length).toBeGreaterThan(0);
    expect(new Set(faults.map((e) => e.gfn)).size).toBe(faults.length);
    expect(r.downtimeNs).toBeLessThan(2e6 + (r.stateBytes * 8 * 1e9) / 50e6 + 1);
    expect(seen[seen.length - 1]!.timeNs).toBe(Math.round(r.totalNs));
  });
});
