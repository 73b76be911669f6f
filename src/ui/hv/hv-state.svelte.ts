// The state behind the hypervisor views: the events (loaded or arriving live), the run's
// configuration, the debugger's position (a seq: views show the run up to it, so stepping back
// moves every view back), the focused VM, and everything derived from those.
import { TraceReader } from '../../trace/reader.ts';
import { inferRunInfo } from './run-info.ts';
import { TimelineStore } from './timeline-store.ts';
import { exitStats, memoryMap, schedule, vmCards } from './derive.ts';
import { rebuildTables, type GuestTableSnapshot } from './tables.ts';
import { lastWalk } from './walk.ts';
import type { ProposedFrameEvent, RunInfo, SeekRequest, VizEvent } from './types.ts';

export class HvState {
  events = $state.raw<VizEvent[]>([]);
  info = $state.raw<RunInfo>({ vms: [], sched: 'rr', hostFrames: 4096 });
  /** The debugger's position: the seq of the last event that has happened. */
  position = $state(Infinity);
  /** The VM the debugger follows (VM cards set it); the tables and walk show this VM. */
  focusVm = $state(0);
  snapshot = $state.raw<GuestTableSnapshot | undefined>(undefined);
  /** Bumped when the timeline's store changes (it is not reactive itself: it holds typed arrays). */
  timelineVersion = $state(0);
  readonly timeline = new TimelineStore();
  /** Set by the app: called when a view asks the debugger to go to an event. */
  onseek: (req: SeekRequest) => void = () => {};
  lastSeek = $state.raw<SeekRequest | null>(null);

  readonly positionTick = $derived.by(() => {
    if (this.position === Infinity) return this.events.at(-1)?.tick ?? 0;
    const i = this.indexOfSeq(this.position);
    return i >= 0 ? this.events[i]!.tick : 0;
  });
  readonly cards = $derived(vmCards(this.events, this.info, this.position));
  readonly exits = $derived(exitStats(this.events, this.position));
  readonly sched = $derived(schedule(this.events, this.info, this.position));
  readonly memory = $derived(memoryMap(this.events, this.info, this.position));
  readonly tables = $derived(rebuildTables(this.events, this.focusVm, this.position, this.snapshot));
  readonly walk = $derived(lastWalk(this.events, this.position, this.focusVm));
  readonly focusInfo = $derived(this.info.vms.find((v) => v.vm === this.focusVm));

  /** Replaces everything with a whole run (a loaded trace or a generated scenario). */
  load(events: VizEvent[], info?: RunInfo, params: Record<string, unknown> = {}): void {
    this.timeline.reset();
    this.timeline.addEvents(events);
    this.info = info ?? inferRunInfo(events, params);
    this.events = events;
    this.position = Infinity;
    if (!this.info.vms.some((v) => v.vm === this.focusVm)) this.focusVm = this.info.vms[0]?.vm ?? 0;
    this.timelineVersion = this.timeline.version;
  }

  /** Appends events as they arrive from the worker (live). A seq at or below the newest rewinds first. */
  append(batch: readonly VizEvent[]): void {
    if (batch.length === 0) return;
    const first = batch[0]!.seq;
    let kept = this.events;
    if (kept.length > 0 && first <= kept.at(-1)!.seq) {
      kept = kept.filter((e) => e.seq < first);
      this.timeline.truncateFromSeq(first);
    }
    this.timeline.addEvents(batch);
    this.events = kept.concat(batch);
    if (this.info.vms.length === 0 || batch.some((e) => e.vm >= 0 && !this.info.vms.some((v) => v.vm === e.vm))) {
      this.info = inferRunInfo(this.events);
    }
    this.timelineVersion = this.timeline.version;
  }

  /** Reads an NDJSON trace; returns an error message with its line number, or null. */
  loadNdjson(text: string): string | null {
    const parsed = parseVizNdjson(text);
    if (!parsed.ok) return parsed.error;
    this.load(parsed.events, undefined, parsed.params);
    return null;
  }

  seek(req: SeekRequest): void {
    this.lastSeek = req;
    this.onseek(req);
  }

  focus(vm: number): void {
    this.focusVm = vm;
  }

  /** Index of the last event with seq <= `seq`. */
  indexOfSeq(seq: number): number {
    let lo = 0, hi = this.events.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.events[m]!.seq <= seq) lo = m + 1; else hi = m; }
    return lo - 1;
  }
}

/**
 * NDJSON with the proposed 'frame' lines allowed (see types.ts): those are checked here, the rest
 * by the schema's own reader, so a bad line is reported with its number as the CLI would.
 */
export function parseVizNdjson(text: string): { ok: true; events: VizEvent[]; params: Record<string, unknown> } | { ok: false; error: string } {
  const reader = new TraceReader();
  const events: VizEvent[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (reader.header && line.includes('"kind":"frame"')) {
      reader.lineNo++;
      const f = parseFrameLine(line);
      if (!f) return { ok: false, error: `line ${i + 1}: bad frame event` };
      events.push(f);
      continue;
    }
    const r = reader.line(line, i === lines.length - 1 && !text.endsWith('\n'));
    if (r.type === 'error') return { ok: false, error: `line ${r.error.line}: ${r.error.message}` };
    if (r.type === 'event') events.push(r.event);
  }
  const end = reader.finish();
  if (end) return { ok: false, error: `line ${end.line}: ${end.message}` };
  return { ok: true, events, params: reader.header?.params ?? {} };
}

function parseFrameLine(line: string): ProposedFrameEvent | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    const num = (k: string): boolean => typeof v[k] === 'number' && Number.isInteger(v[k]);
    if (!['seq', 'tick', 'vm', 'vcpu', 'frame', 'count', 'ownerVm'].every(num)) return null;
    if (v.op !== 'alloc' && v.op !== 'free') return null;
    if (!['hypervisor', 'guest', 'shadow', 'nested'].includes(v.owner as string)) return null;
    return v as unknown as ProposedFrameEvent;
  } catch {
    return null;
  }
}
