// A hypervisor trace file carries its run's configuration: `vizor run --hv --sched credit
// --weight 1,2,4 --trace run.vzt` writes params.vms (technique, paging, weight per VM), the
// scheduler and the host's size, so the Gantt's "achieved share against weight" works from the
// file alone; and its frame events start from the frames the images took before the trace began.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeTraceFile } from '../../src/trace/file.ts';
import { parseTrace } from '../../src/trace/reader.ts';
import { inferRunInfo } from '../../src/ui/hv/run-info.ts';
import { memoryMap, ownerCode, schedule } from '../../src/ui/hv/derive.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-trace-params-'));
const KERNEL = 'lessons/09-scheduling/kernel.asm';

function run(file: string): void {
  const args = ['bin/vizor.mjs', 'run', '--hv', '--paging', 'shadow', '--sched', 'credit', '--weight', '1,2,4', '--vm', KERNEL, '--vm', KERNEL, '--vm', KERNEL, '--trace', file];
  const r = spawnSync('node', args, { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  // The kernels end through the debug-exit port: an odd status (QEMU's (v<<1)|1).
  if (r.status === null || r.status % 2 === 0) throw new Error(`vizor run --hv exited ${r.status}: ${r.stderr}`);
}

describe('trace params of a hypervisor run', () => {
  const vzt = join(dir, 'run.vzt'), ndjson = join(dir, 'run.ndjson');
  run(vzt);
  run(ndjson);
  const bin = decodeTraceFile(new Uint8Array(readFileSync(vzt)).buffer);
  const text = parseTrace(readFileSync(ndjson, 'utf8'));

  it('a .vzt name writes the binary format, with the same events and header as the NDJSON file', () => {
    if (!bin.ok) throw new Error(`byte ${bin.error.offset}: ${bin.error.message}`);
    if (!text.ok) throw new Error(text.error.message);
    expect(bin.events.length).toBeGreaterThan(1000);
    expect(bin.events).toStrictEqual(text.events);
    expect(bin.header.params).toEqual(text.header.params);
  });

  it('params.vms carries technique, paging and weight per VM; the shares against weight come from them', () => {
    if (!bin.ok) throw new Error(bin.error.message);
    const params = bin.header.params;
    expect(params.vms).toEqual([0, 1, 2].map((vm) => ({ vm, name: `vm${vm}`, cpu: 'vtx', paging: 'shadow', weight: [1, 2, 4][vm], cap: 0 })));
    expect(params).toMatchObject({ sched: 'credit', hvFrames: 256 });
    const info = inferRunInfo(bin.events, params);
    expect(info.vms.map((v) => v.weight)).toEqual([1, 2, 4]);
    expect(info.sched).toBe('credit');
    const shares = schedule(bin.events, info).shares;
    expect(shares.map((s) => s.weightShare)).toEqual([1 / 7, 2 / 7, 4 / 7]);
    // Achieved shares, counted here from the switches independently: each VM's time from a switch to it until the next switch.
    const ticks = [0, 0, 0];
    const sw = bin.events.filter((e) => e.kind === 'sched' && e.reason !== 'wake') as Extract<TraceEvent, { kind: 'sched' }>[];
    const end = Math.max(...bin.events.map((e) => e.tick));
    sw.forEach((e, i) => { if (e.to >= 0) ticks[e.to]! += (sw[i + 1]?.tick ?? end) - e.tick; });
    const total = ticks.reduce((a, b) => a + b, 0);
    shares.forEach((s, vm) => expect(s.share).toBeCloseTo(ticks[vm]! / total, 6));
    // The heaviest weight got the most CPU while all three competed.
    expect(shares[2]!.ticks).toBeGreaterThan(0);
  });

  it('frame events start with the frames held before the trace began: the map never frees what it never saw', () => {
    if (!bin.ok) throw new Error(bin.error.message);
    const info = inferRunInfo(bin.events, bin.header.params);
    const held = new Set<number>();
    for (const e of bin.events) {
      if (e.kind !== 'frame') continue;
      if (e.op === 'alloc') { expect(held.has(e.frame)).toBe(false); held.add(e.frame); }
      else { expect(held.has(e.frame), `free of frame ${e.frame} never allocated`).toBe(true); held.delete(e.frame); }
    }
    const m = memoryMap(bin.events, info);
    for (const vm of [0, 1, 2]) {
      expect(m.counts.get(ownerCode('guest', vm)) ?? 0).toBeGreaterThan(0);
      expect(m.counts.get(ownerCode('shadow', vm)) ?? 0).toBeGreaterThan(0);
    }
    expect(m.counts.get(1)).toBe(256); // the hypervisor's own frames, from params.hvFrames
  });
});
