// The state behind the hypervisor views: the events (loaded or arriving live), the run's
// configuration, the debugger's position (a seq: views show the run up to it, so stepping back
// moves every view back), the focused VM, and everything derived from those.
import { inferRunInfo, notePaging, type PagingSeen } from './run-info.ts';
import { TimelineStore } from './timeline-store.ts';
import { exitStats, memoryMap, schedule, vmCards } from './derive.ts';
import { rebuildTables, type GuestTableSnapshot } from './tables.ts';
import { ColumnTables, columnLastWalk } from './table-replay.ts';
import { lastWalk } from './walk.ts';
import type { RunInfo, SeekRequest, VizEvent } from './types.ts';
import { parseVizNdjson } from './viz-ndjson.ts';
import { scanTraceFile } from '../../trace/file.ts';
import { CAT, SHADOW_OPS } from './timeline-store.ts';
import { SPARSE_KINDS, columnFrameExtent, decodeKinds, decodeRange, withConsoleTails, withTotals, type Batch } from './column-views.ts';
import { TotalsReplay } from './totals-scan.ts';

/** `next`, plus the VMs of `prev` that `next` lacks (a window of a run may miss a quiet VM's events). */
function withVmsOf(prev: RunInfo, next: RunInfo): RunInfo {
  const missing = prev.vms.filter((v) => !next.vms.some((n) => n.vm === v.vm));
  return missing.length === 0 ? next : { ...next, vms: [...next.vms, ...missing].sort((a, b) => a.vm - b.vm) };
}

function frameExtentOf(events: readonly VizEvent[], from: number): number {
  let max = from;
  for (const ev of events) if (ev.kind === 'frame' && ev.frame >= max) max = ev.frame + 1;
  return max;
}

export class HvState {
  /**
   * The events as objects. For a trace opened from a binary file (`columns` set) only the sparse
   * kinds (shutdown, mode changes ...): the timeline and the counters read its columns, and the
   * tables and the walk replay the events they depend on from the columns (table-replay.ts).
   */
  events = $state.raw<VizEvent[]>([]);
  /** The binary trace's batches, viewed in place; null when fed event arrays. */
  columns = $state.raw<readonly Batch[] | null>(null);
  /** How many events there are (the timeline's count: all of them, whichever the source). */
  count = $state(0);
  /** Milliseconds the last binary open spent checking the file, ingesting its columns and decoding the sparse kinds (for bench/viz.ts). */
  openPhases: Record<string, number> = {};
  /** One past the highest host frame any frame event of the run names (the memory map shows up to there). */
  frameExtent = $state(0);
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
    void this.timelineVersion;
    const tl = this.timeline;
    if (tl.n === 0) return 0;
    if (this.position === Infinity) return tl.tick[tl.n - 1]!;
    const i = this.indexOfSeq(this.position);
    return i >= 0 ? tl.tick[i]! : 0;
  });
  /**
   * A binary trace's tables, replayed from its columns with checkpoints: exactly what applying
   * every event from the start shows, and a seek replays at most CHECKPOINT_EVENTS events.
   */
  private readonly replay = $derived(this.columns ? new ColumnTables(this.columns) : null);
  /** With a binary trace: one past the index of the position's event. */
  private readonly positionEnd = $derived.by(() => {
    void this.timelineVersion;
    return this.position === Infinity ? this.timeline.n : this.indexOfSeq(this.position) + 1;
  });
  /** A binary trace's counters (exits, faults, memory, scheduling), replayed from its columns with checkpoints in the same way. */
  private readonly totalsReplay = $derived(this.columns ? new TotalsReplay(this.columns, this.info) : null);
  private readonly totals = $derived(this.totalsReplay && this.columns
    ? withConsoleTails(this.totalsReplay.at(this.positionEnd), this.columns, this.positionEnd, this.info)
    : null);
  readonly cards = $derived(withTotals(vmCards(this.events, this.info, this.position), this.totals));
  readonly exits = $derived(this.totals ? this.totals.exits : exitStats(this.events, this.position));
  readonly sched = $derived(this.totals ? this.totals.sched : schedule(this.events, this.info, this.position));
  readonly memory = $derived(this.totals ? this.totals.memory : memoryMap(this.events, this.info, this.position));
  readonly tables = $derived(this.replay
    ? this.replay.tablesAt(this.positionEnd, this.focusVm, this.snapshot)
    : rebuildTables(this.events, this.focusVm, this.position, this.snapshot));
  readonly walk = $derived(this.columns
    ? columnLastWalk(this.columns, this.positionEnd, this.focusVm)
    : lastWalk(this.events, this.position, this.focusVm));
  readonly focusInfo = $derived(this.info.vms.find((v) => v.vm === this.focusVm));

  /**
   * What the run's events have shown so far about how each VM pages, kept over the whole run (not
   * just the events still held): a window late in a run may hold no shadow operation at all.
   */
  private pagingSeen: PagingSeen = new Map();
  /** The run's header params (a loaded trace's); the live app has none. */
  private params: Record<string, unknown> = {};

  /**
   * The live app's run configuration, in a trace header's words (params.mode = "hv CPU PAGING
   * SCHED"): the app's event list has no header, and without it the VM cards would guess the
   * technique from events (and show VT-x for every run).
   */
  configure(params: Record<string, unknown>): void {
    if (JSON.stringify(params) === JSON.stringify(this.params)) return;
    this.params = params;
    this.info = withVmsOf(this.info, inferRunInfo(this.events, params, this.pagingSeen));
  }

  /** Replaces everything with a whole run (a loaded trace or a generated scenario). */
  load(events: VizEvent[], info?: RunInfo, params: Record<string, unknown> = {}): void {
    this.pagingSeen = new Map();
    this.params = params;
    this.show(events, info ?? inferRunInfo(events, params, this.pagingSeen));
  }

  /** Shows `events` of the run already shown (the list was cut back or dropped its oldest): what it showed of each VM stays known. */
  private reloadSameRun(events: VizEvent[]): void {
    this.show(events, withVmsOf(this.info, inferRunInfo(events, this.params, this.pagingSeen)));
  }

  private show(events: VizEvent[], info: RunInfo): void {
    this.timeline.reset();
    this.timeline.addEvents(events);
    this.columns = null;
    this.info = info;
    this.events = events;
    this.loaded();
  }

  /**
   * Opens a binary trace file (.vzt) read whole: its batches are checked and viewed in place, the
   * timeline ingests the columns, only the sparse kinds become objects. Returns an error naming
   * the byte offset, or null; on an error nothing loaded before is touched.
   */
  loadBinary(buffer: ArrayBuffer): string | null {
    const t0 = performance.now();
    const scan = scanTraceFile(buffer);
    if (!scan.ok) return `byte ${scan.error.offset}: ${scan.error.message}`;
    const t1 = performance.now();
    this.timeline.reset();
    this.timeline.addColumns(scan.batches);
    const t2 = performance.now();
    const cols = this.timeline.columns;
    const sparse = decodeKinds(cols, SPARSE_KINDS);
    this.openPhases = { check: t1 - t0, ingest: t2 - t1, decode: performance.now() - t2 };
    // Which VMs there are and how they page: the header says, or the first events show.
    this.pagingSeen = new Map();
    this.params = scan.header.params;
    this.info = inferRunInfo([...sparse, ...decodeRange(cols, 0, 50_000)], scan.header.params, this.pagingSeen);
    this.columns = cols;
    this.events = sparse;
    this.loaded();
    return null;
  }

  private loaded(): void {
    this.frameExtent = this.columns ? columnFrameExtent(this.columns) : frameExtentOf(this.events, 0);
    this.position = Infinity;
    if (!this.info.vms.some((v) => v.vm === this.focusVm)) this.focusVm = this.info.vms[0]?.vm ?? 0;
    this.count = this.timeline.n;
    this.timelineVersion = this.timeline.version;
  }

  /** Appends events as they arrive from the worker (live). A seq at or below the newest rewinds first. */
  append(batch: readonly VizEvent[]): void {
    if (batch.length === 0) return;
    if (this.columns) { this.load([...batch]); return; } // a live run replaces an opened binary trace
    const first = batch[0]!.seq;
    let kept = this.events;
    if (kept.length > 0 && first <= kept.at(-1)!.seq) {
      kept = kept.filter((e) => e.seq < first);
      this.timeline.truncateFromSeq(first);
    }
    this.timeline.addEvents(batch);
    this.events = kept.concat(batch);
    const before = [...this.pagingSeen];
    notePaging(batch, this.pagingSeen);
    const learned = this.pagingSeen.size !== before.length || before.some(([vm, p]) => this.pagingSeen.get(vm) !== p);
    if (learned || this.info.vms.length === 0 || batch.some((e) => e.vm >= 0 && !this.info.vms.some((v) => v.vm === e.vm))) {
      this.info = withVmsOf(this.info, inferRunInfo(this.events, this.params, this.pagingSeen));
    }
    this.count = this.timeline.n;
    this.frameExtent = frameExtentOf(batch, this.frameExtent);
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
    // The same run goes on (or was cut back) when the list starts no earlier than ours; an empty
    // list or an earlier start is a new run (the app reloaded, perhaps with other settings).
    let sameRun = last !== undefined && list.length > 0 && list[0]!.seq >= have[0]!.seq;
    if (sameRun) {
      // The list continues ours (its oldest events may have been dropped: we keep them, up to a cap).
      let lo = 0, hi = list.length;
      while (lo < hi) { const m = (lo + hi) >> 1; if (list[m]!.seq <= last!) lo = m + 1; else hi = m; }
      // Another run numbers its events from 0 too (a saved trace opened over a live one): the
      // event we both hold at `last` must be the same one.
      const mine = have.at(-1)!, theirs = lo > 0 ? list[lo - 1]! : null;
      if (theirs && theirs.seq === last && (theirs.tick !== mine.tick || theirs.kind !== mine.kind || theirs.vm !== mine.vm)) sameRun = false;
      else if (theirs && theirs.seq === last && have.length + list.length - lo <= this.maxEvents) {
        this.append(list.slice(lo));
        return;
      }
    }
    if (sameRun) this.reloadSameRun([...list]);
    else this.load([...list], undefined, this.params);
  }

  /** Moves the position to the debugger's time: the last event at or before `tick`. */
  setPositionTick(tick: number, atEnd = false): void {
    if (atEnd) { this.position = Infinity; return; }
    const tl = this.timeline;
    let lo = 0, hi = tl.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (tl.tick[m]! <= tick) lo = m + 1; else hi = m; }
    this.position = lo === 0 ? 0 : tl.seq[lo - 1]!;
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

  /** Index (among all events) of the last event with seq <= `seq`. */
  indexOfSeq(seq: number): number {
    const tl = this.timeline;
    let lo = 0, hi = tl.n;
    while (lo < hi) { const m = (lo + hi) >> 1; if (tl.seq[m]! <= seq) lo = m + 1; else hi = m; }
    return lo - 1;
  }

  /** The seq of the event at index i (among all events). */
  seqAt(i: number): number {
    return this.timeline.seq[i]!;
  }

  /**
   * Index of the next event (dir 1) or previous one (dir -1) from `from` that is an exit, a shadow
   * operation, or a shadow fill of VM `vm` (an event breakpoint on fills), or -1.
   */
  findNext(from: number, dir: 1 | -1, what: 'exit' | 'shadow' | 'fill', vm = -1): number {
    const tl = this.timeline, want = what === 'exit' ? CAT.exit : CAT.shadow;
    const lane = vm + 1, fillOp = SHADOW_OPS.indexOf('fill');
    for (let i = from + dir; i >= 0 && i < tl.n; i += dir) {
      if (tl.cat[i] !== want) continue;
      if (what === 'fill' && (tl.sub[i] !== fillOp || (vm >= 0 && tl.lane[i] !== lane))) continue;
      return i;
    }
    return -1;
  }
}

