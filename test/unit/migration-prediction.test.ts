// Pre-copy against the arithmetic of the link. The writer kernel dirties one page of a 256-page
// buffer every 5 + 2*DELAY instructions (32 ns each), cycling through the buffer, so in a round of
// duration D it dirties min(256, D / w) pages (w = time per page write) plus the odd stack or data
// page. A round that sends n pages lasts D = latency + n * s (s = wire time of one page). Iterating
// that from the pages live at the start predicts every round's dirty set, the number of rounds
// before the dirty set fits the downtime limit, and the downtime itself.
//
// Tolerances (stated): each round's dirty set within 2 pages + 5% of D / w computed from the
// round's measured duration; the number of rounds exactly as predicted (the parameters keep the
// predicted dirty sets far from the stop threshold); downtime within 10% of the prediction.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { Migration } from '../../src/migration/engine.ts';
import { capturePages } from '../../src/migration/vm-state.ts';

const MB = { kind: 'multiboot' as const, cmdline: 'k ' };
const HOST = 96 << 20;
const NS = 32;
const PAGES = 256;
/** Bytes a page takes on the wire: 4096 of data and an 8-byte header, as documented in link.ts. */
const WIRE = 4104;

async function startWriter(file: string, at: number) {
  const image = await readImage(file);
  const a = new Hypervisor({ hostMemoryBytes: HOST }), b = new Hypervisor({ hostMemoryBytes: HOST });
  const src = a.addVm({ image, boot: MB, paging: 'nested' });
  expect(driveVm(a, src, { instructions: at })).toBe('reached');
  return { image, a, b, src };
}

describe.concurrent('pre-copy rounds and downtime follow from the bandwidth', () => {
  it('writer at a known rate: rounds and downtime as predicted', async () => {
    const bw = 100e6, lat = 1e6, limit = 5e6;
    const w = (5 + 2 * 20000) * NS; // writer.asm: DELAY 20000
    const s = (WIRE * 8 * 1e9) / bw;
    const { image, a, b, src } = await startWriter('fixtures/migration/writer.asm', 11_000_000); // after one full pass
    const live = capturePages(src).size;
    expect(live).toBeGreaterThanOrEqual(PAGES);
    // The prediction, from the link and the write rate alone.
    const fit = Math.floor((limit - lat) / s);
    const predicted: number[] = [];
    let n = live;
    for (let k = 0; k < 30; k++) {
      n = Math.min(PAGES, (lat + n * s) / w);
      predicted.push(n);
      if (n <= fit) break;
    }
    const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: bw, latencyNs: lat }, mode: 'precopy', maxDowntimeNs: limit });
    const r = m.run({ image, boot: MB, paging: 'nested' });
    expect(r.switchover).toBe('converged');
    expect(r.rounds.length).toBe(predicted.length);
    for (const round of r.rounds) {
      const expected = Math.min(PAGES, round.durationNs / w);
      expect(Math.abs(round.dirtyAfter - expected), `round ${round.round}`).toBeLessThanOrEqual(2 + 0.05 * expected);
      expect(round.durationNs).toBeCloseTo(lat + round.pagesSent * s, 0);
    }
    const stateNs = (r.stateBytes * 8 * 1e9) / bw;
    const predictedDowntime = lat + predicted[predicted.length - 1]! * s + stateNs;
    expect(Math.abs(r.downtimeNs - predictedDowntime)).toBeLessThanOrEqual(0.1 * predictedDowntime);
    expect(r.downtimeNs).toBeLessThanOrEqual(limit + stateNs);
    a.release();
    b.release();
  });

  it('a writer faster than the link never converges: the round limit forces stop-and-copy', async () => {
    const bw = 100e6, lat = 1e6, limit = 5e6;
    const s = (WIRE * 8 * 1e9) / bw;
    const { image, a, b, src } = await startWriter('fixtures/migration/fast-writer.asm', 100_000);
    const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: bw, latencyNs: lat }, mode: 'precopy', maxDowntimeNs: limit, maxRounds: 4 });
    const r = m.run({ image, boot: MB, paging: 'nested' });
    expect(r.switchover).toBe('round-limit');
    expect(r.rounds.length).toBe(4);
    for (const round of r.rounds) expect(round.dirtyAfter).toBeGreaterThanOrEqual(PAGES); // the whole buffer, every round
    expect(r.finalPages).toBeGreaterThanOrEqual(PAGES);
    const stateNs = (r.stateBytes * 8 * 1e9) / bw;
    const predicted = lat + r.finalPages * s + stateNs;
    expect(r.downtimeNs).toBeCloseTo(predicted, -3);
    expect(r.downtimeNs).toBeGreaterThan(lat + PAGES * s); // far over the 5 ms limit: the fallback's price
    expect(r.destChecksum).toBe(r.sourceChecksum);
    const downtime = r.events.filter((e) => e.phase === 'downtime-start');
    expect(downtime).toHaveLength(1);
    expect(downtime[0]!.detail).toBe('round-limit');
    a.release();
    b.release();
  });
});
