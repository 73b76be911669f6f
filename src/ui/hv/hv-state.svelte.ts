// The state behind the hypervisor views: the events (loaded or arriving live), the run's
// configuration, the debugger's position (a seq: views show the run up to it, so stepping back
// moves every view back), the focused VM, and everything derived from those.
import { inferRunInfo } from './run-info.ts';
import { TimelineStore } from './timeline-store.ts';
import { exitStats, memoryMap, schedule, vmCards } from './derive.ts';
import { rebuildTables, type GuestTableSnapshot } from './tables.ts';
import { lastWalk } from './walk.ts';
import type { RunInfo, SeekRequest, VizEvent } from './types.ts';
import { parseVizNdjson } from './viz-ndjson.ts';

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
  /** Most events kept when following a list that drops its oldest (sync); beyond it, sync reloads from the list. */
  maxEvents = 1_000_000;
  lastSeek = $state.raw<SeekRequest | null>(null);
  /** The time window the timeline shows (the Gantt follows it); null = the whole run. */
  viewRange = $state.raw<{ t0: number; t1: number } | null>(null);

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

  /**
   * Follows an event list that grows at the end and is sometimes cut back (the app's
   * session.events, the ring buffer's contents): appends what is new, reloads when the list no
   * longer continues the one shown (stepped back, dropped its oldest events, another trace).
   */
  sync(list: readonly VizEvent[]): void {
    if (list === this.events) return;
    const have = this.events;
    const last = have.at(-1)?.seq;
    if (last !== undefined && list.length > 0 && list[0]!.seq >= have[0]!.seq) {
      // The list continues ours (its oldest events may have been dropped: we keep them, up to a cap).
      let lo = 0, hi = list.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (list[m]!.seq <= last) lo = m + 1; else hi = m; }
      if (lo > 0 && list[lo - 1]!.seq === last && have.length + list.length - lo <= this.maxEvents) {
        this.append(list.slice(lo));
        return;
      }
    }
    this.load([...list], this.info.vms.length > 0 ? this.info : undefined);
  }

  /** Moves the position to the debugger's time: the last event at or before `tick`. */
  setPositionTick(tick: number, atEnd = false): void {
    if (atEnd) { this.position = Infinity; return; }
    let lo = 0, hi = this.events.length;
    while (lo < hi) { const m = (lo + hi) >> 1; if (this.events[m]!.tick <= tick) lo = m + 1; else hi = m; }
    this.position = lo === 0 ? 0 : this.events[lo - 1]!.seq;
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

