// 'frame' events of a real hypervisor run: every host frame the hypervisor hands out or takes back
// is announced, so replaying the events gives exactly the frames in use — per VM, per owner — at
// every point, and all of them come back when the VMs are released. The allocator's own counters
// (HostFrames.used, each VM's backed pages and table frames) are the oracle.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { countByOwner, ownerKey } from '../../src/hypervisor/frame-events.ts';
import { captureEvents, checkRoundTrips } from '../../src/trace/capture.ts';
import { formatSummary, summarize } from '../../src/trace/summary.ts';
import { maskOf, type EventOf, type TraceEvent } from '../../src/trace/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-trace-frames-'));

function assemble(name: string): Uint8Array {
  const out = join(dir, `${name}.bin`);
  execFileSync('nasm', ['-f', 'bin', '-i', 'fixtures/kernels/', `fixtures/kernels/${name}.asm`, '-o', out]);
  return new Uint8Array(readFileSync(out));
}

/** Frames in use by "owner vmN": those held before the events, then the events replayed. */
function replay(events: readonly TraceEvent[], before: ReadonlyMap<number, string> = new Map()): Map<string, number> {
  const held = new Map(before);
  for (const ev of events) {
    if (ev.kind !== 'frame') continue;
    if (ev.op === 'alloc') {
      expect(held.has(ev.frame), `frame ${ev.frame} allocated twice (seq ${ev.seq})`).toBe(false);
      held.set(ev.frame, ownerKey(ev.owner, ev.ownerVm));
    } else {
      expect(held.get(ev.frame), `frame ${ev.frame} freed by another owner (seq ${ev.seq})`).toBe(ownerKey(ev.owner, ev.ownerVm));
      held.delete(ev.frame);
    }
  }
  return countByOwner(held);
}

describe('frame events of a three-VM run (shadow and nested paging)', () => {
  const hv = new Hypervisor({ hostMemoryBytes: 256 * 1024 * 1024 });
  const vms = [
    hv.addVm({ name: 'timer', image: assemble('pit-timer'), paging: 'shadow' }),
    hv.addVm({ name: 'shadow', image: assemble('paging'), paging: 'shadow' }),
    hv.addVm({ name: 'nested', image: assemble('paging'), paging: 'nested' }),
  ];
  // Loading the images backed some guest memory before anyone listened: those frames are in the
  // allocator's books but not in this stream, so the stream is compared against what changed.
  const before = hv.frames.events!.held();
  const events = captureEvents(hv.emitter, () => void hv.run(50_000_000));
  const frames = events.filter((e): e is EventOf<'frame'> => e.kind === 'frame');
  const atEnd = hv.frames.events!.inUse();

  it('are the hypervisor\'s own (vm -1) and name the VM they serve', () => {
    expect(frames.length).toBeGreaterThan(0);
    expect(frames.every((e) => e.vm === -1 && e.ownerVm >= 0 && e.ownerVm < 3)).toBe(true);
    expect(new Set(frames.map((e) => e.owner))).toEqual(new Set(['guest', 'shadow', 'nested']));
    expect(frames.filter((e) => e.owner === 'shadow').every((e) => e.ownerVm !== 2)).toBe(true);
    expect(frames.filter((e) => e.owner === 'nested').every((e) => e.ownerVm === 2)).toBe(true);
  });

  it('add up to the frames in use: events replayed plus what was held before = the allocator\'s books', () => {
    expect(before.size).toBeGreaterThan(0);
    const replayed = replay(frames, before);
    expect(replayed).toEqual(atEnd);
    const total = [...atEnd.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(hv.frames.used);
    vms.forEach((vm, i) => {
      expect(atEnd.get(`guest vm${i}`) ?? 0, `vm${i} guest`).toBe(vm.gmem.backed);
      expect((atEnd.get(`shadow vm${i}`) ?? 0) + (atEnd.get(`nested vm${i}`) ?? 0), `vm${i} tables`).toBe(vm.paging.tableFrames);
    });
    // Shadow tables are dropped and rebuilt (CR3 switches flush them): frees happen mid-run.
    expect(frames.some((e) => e.op === 'free' && e.owner === 'shadow')).toBe(true);
  });

  it('survive the NDJSON, binary and ring round trips, and the summary counts them', () => {
    expect(checkRoundTrips(events)).toBeNull();
    const s = summarize(events);
    expect(s.frames?.allocs).toBe(frames.filter((e) => e.op === 'alloc').length);
    expect(s.frames?.frees).toBe(frames.filter((e) => e.op === 'free').length);
    // The slide's table lists what the events add up to (those held before the trace are not in it).
    const added = replay(frames);
    const text = formatSummary(s);
    expect(text).toMatch(/^Host frames \([\d,]+ allocated, [\d,]+ freed\)$/m);
    for (const [owner, n] of added) if (n !== 0) expect(text).toMatch(new RegExp(`^  ${owner}\\s+${n.toLocaleString('en-US')}$`, 'm'));
  });

  it('give every frame back when the VMs are released', () => {
    const released = captureEvents(hv.emitter, () => hv.release());
    expect(replay([...frames, ...released], before)).toEqual(new Map());
    expect(hv.frames.used).toBe(0);
  });

  it('cost nothing unless the kind is listened to', () => {
    const other = new Hypervisor({ hostMemoryBytes: 128 * 1024 * 1024 });
    other.addVm({ name: 'paging', image: assemble('paging'), paging: 'shadow' });
    const seen = captureEvents(other.emitter, () => void other.run(50_000_000), maskOf(['exit', 'shadow']));
    expect(seen.some((e) => e.kind === 'frame')).toBe(false);
    expect(other.frames.used).toBeGreaterThan(0);
    other.release();
  });
});
