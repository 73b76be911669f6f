// Chrome trace-event JSON (opens in Perfetto's UI and chrome://tracing).
// VMs are processes (pid = vm + 2), the hypervisor is process 1; vCPUs are threads (tid = vcpu + 1).
// An exit is a complete ('X') slice on its vCPU from the exit to the next entry, and the
// hypervisor's handling of it a slice on the hypervisor's "exit handlers" thread; scheduling
// decisions are slices on the hypervisor's "scheduler" thread; everything else (page faults,
// shadow operations, ...) is an instant ('i') event. ts and dur are in ticks (virtual time): the
// viewer's unit (µs) stands for one tick. Streaming: push() returns what can be written now.
import { SCHEMA_VERSION, type EventOf, type TraceEvent } from './schema.ts';
import type { TraceParams } from './ndjson.ts';

export interface ChromeEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts?: number;
  dur?: number;
  cat?: string;
  s?: 't' | 'p' | 'g';
  args?: Record<string, unknown>;
}

export const HYPERVISOR_PID = 1;
/** Hypervisor threads: exit handling and scheduling (its own events use tid = vcpu + 1). */
export const HANDLER_TID = 1001;
export const SCHEDULER_TID = 1000;
/**
 * A migrating VM's "migration" thread: pre-copy rounds and the downtime as slices, other phases as
 * instants. Its time is the migration's own clock (timeUs), placed at 32 ns per tick (one
 * instruction, as everywhere in vizor) from the tick of the VM's first migration event: during
 * the downtime no host's clock advances for the VM, so ticks alone would show it 0 long.
 */
export const MIGRATION_TID = 2000;
const NS_PER_TICK = 32;

export const pidOf = (vm: number): number => vm + 2;
export const tidOf = (vcpu: number): number => vcpu + 1;

const hex = (n: number): string => '0x' + n.toString(16);

function ownFields(ev: TraceEvent): Record<string, unknown> {
  const { seq, tick: _t, vm: _v, vcpu: _c, kind: _k, ...rest } = ev;
  return { seq, ...rest };
}

function instantName(ev: TraceEvent): string {
  switch (ev.kind) {
    case 'pagefault':
      return `#PF ${ev.outcome} ${hex(ev.linear)}`;
    case 'shadow':
      return `shadow ${ev.op}`;
    case 'exception':
      return `exception ${ev.vector}`;
    case 'interrupt':
      return `interrupt ${ev.vector} (${ev.source})`;
    case 'io':
      return `${ev.dir} ${hex(ev.port)}`;
    case 'tlb':
      return `tlb ${ev.op}`;
    case 'walk':
      return `walk ${ev.dimension} L${ev.level}`;
    case 'mode':
      return `mode ${ev.mode}${ev.paging ? '+paging' : ''}`;
    case 'migration':
      return `migration ${ev.phase}${ev.detail === undefined ? '' : ` (${ev.detail})`}`;
    case 'frame':
      return `frame ${ev.op} ${ev.owner}${ev.ownerVm >= 0 ? ` vm${ev.ownerVm}` : ''}`;
    default:
      return ev.kind;
  }
}

export class PerfettoConverter {
  private named = new Set<string>();
  private openExits = new Map<string, EventOf<'exit'>>();
  private running: EventOf<'sched'> | null = null;
  /** The latest exit whose handler slice is not written yet (it ends at the next hypervisor activity at the latest). */
  private handling: EventOf<'exit'> | null = null;
  /** Per thread: the end of the latest slice, to keep slices nested or sequential. */
  private busyUntil = new Map<string, number>();
  private lastTick = 0;
  /** Per migrating VM: the open round or downtime slice (closed by the next phase that ends it). */
  private migrationOpen = new Map<number, { name: string; ev: EventOf<'migration'>; ts: number }>();
  /** Per migrating VM: the tick its migration clock starts at. */
  private migrationAnchor = new Map<number, number>();
  /** Per migrating VM: the latest time placed on its migration thread. */
  private migrationLast = new Map<number, number>();

  push(ev: TraceEvent): ChromeEvent[] {
    const out: ChromeEvent[] = [];
    this.lastTick = Math.max(this.lastTick, ev.tick);
    const key = `${ev.vm}:${ev.vcpu}`;
    if (ev.kind === 'exit') {
      const pending = this.openExits.get(key);
      if (pending) this.closeExit(out, pending, Math.min(pending.tick + pending.cycles, ev.tick), {});
      this.closeHandler(out, ev.tick);
      this.handling = ev;
      this.openExits.set(key, ev);
    } else if (ev.kind === 'entry') {
      if (this.handling && this.handling.vm === ev.vm && this.handling.vcpu === ev.vcpu)
        this.closeHandler(out, ev.tick);
      const pending = this.openExits.get(key);
      if (pending) {
        this.openExits.delete(key);
        this.closeExit(
          out,
          pending,
          ev.tick,
          ev.injectedVector === undefined ? {} : { injectedVector: ev.injectedVector },
        );
      }
    } else if (ev.kind === 'sched') {
      this.nameThread(out, HYPERVISOR_PID, SCHEDULER_TID, 'scheduler');
      if (this.running) this.closeSched(out, this.running, ev.tick);
      this.running = ev;
    } else if (ev.kind === 'migration') {
      this.migrationPhase(out, ev);
    } else {
      const pid = pidOf(ev.vm);
      const tid = tidOf(ev.vcpu);
      this.nameOwnThread(out, ev.vm, ev.vcpu);
      out.push({
        name: instantName(ev),
        cat: ev.kind,
        ph: 'i',
        s: 't',
        ts: ev.tick,
        pid,
        tid,
        args: ownFields(ev),
      });
    }
    return out;
  }

  /** Closes what is still open at the end of the trace. */
  finish(): ChromeEvent[] {
    const out: ChromeEvent[] = [];
    this.closeHandler(out, Infinity);
    for (const exit of this.openExits.values())
      this.closeExit(out, exit, exit.tick + exit.cycles, { unfinished: true });
    this.openExits.clear();
    if (this.running) this.closeSched(out, this.running, this.lastTick);
    this.running = null;
    for (const [vm, open] of [...this.migrationOpen]) this.closeMigration(out, vm, Math.max(open.ts, this.lastTick));
    return out;
  }

  /**
   * A round lasts from its round-start to the next round-start or downtime-start; the downtime
   * from downtime-start to downtime-end. Every phase is also an instant on the same thread.
   */
  private migrationPhase(out: ChromeEvent[], ev: EventOf<'migration'>): void {
    const pid = pidOf(ev.vm);
    this.nameThread(out, pid, MIGRATION_TID, 'migration');
    if (!this.migrationAnchor.has(ev.vm) || ev.phase === 'start') this.migrationAnchor.set(ev.vm, ev.tick);
    // Never backwards on the thread (a well-formed migration's clock never is), so slices stay sequential.
    const ts = Math.max(this.migrationLast.get(ev.vm) ?? 0, this.migrationAnchor.get(ev.vm)! + Math.round((ev.timeUs * 1000) / NS_PER_TICK));
    this.migrationLast.set(ev.vm, ts);
    const ends = ev.phase === 'round-start' || ev.phase === 'downtime-start' || ev.phase === 'downtime-end' || ev.phase === 'done';
    if (ends) this.closeMigration(out, ev.vm, ts);
    if (ev.phase === 'round-start') this.migrationOpen.set(ev.vm, { name: `round ${ev.round}`, ev, ts });
    if (ev.phase === 'downtime-start') this.migrationOpen.set(ev.vm, { name: 'downtime', ev, ts });
    out.push({ name: instantName(ev), cat: 'migration', ph: 'i', s: 't', ts, pid, tid: MIGRATION_TID, args: ownFields(ev) });
  }

  private closeMigration(out: ChromeEvent[], vm: number, end: number): void {
    const open = this.migrationOpen.get(vm);
    if (!open) return;
    this.migrationOpen.delete(vm);
    this.slice(out, { name: open.name, cat: 'migration', pid: pidOf(vm), tid: MIGRATION_TID, ts: open.ts, dur: end - open.ts, args: ownFields(open.ev) });
  }

  private closeExit(
    out: ChromeEvent[],
    exit: EventOf<'exit'>,
    end: number,
    extra: Record<string, unknown>,
  ): void {
    const pid = pidOf(exit.vm);
    const args = { ...ownFields(exit), ...extra };
    this.nameOwnThread(out, exit.vm, exit.vcpu);
    this.slice(out, {
      name: `exit ${exit.reason}`,
      cat: 'exit',
      pid,
      tid: tidOf(exit.vcpu),
      ts: exit.tick,
      dur: end - exit.tick,
      args,
    });
  }

  /** Writes the pending handler slice: `cycles` long, but over by `limit` (the next exit or the entry). */
  private closeHandler(out: ChromeEvent[], limit: number): void {
    const exit = this.handling;
    if (!exit) return;
    this.handling = null;
    this.nameThread(out, HYPERVISOR_PID, HANDLER_TID, 'exit handlers');
    const dur = Math.max(0, Math.min(exit.cycles, limit - exit.tick));
    const name = `handle ${exit.reason} (VM ${exit.vm})`;
    this.slice(out, {
      name,
      cat: 'handler',
      pid: HYPERVISOR_PID,
      tid: HANDLER_TID,
      ts: exit.tick,
      dur,
      args: ownFields(exit),
    });
  }

  private closeSched(out: ChromeEvent[], s: EventOf<'sched'>, end: number): void {
    const name = s.to < 0 ? 'idle' : `VM ${s.to}`;
    this.slice(out, {
      name,
      cat: 'sched',
      pid: HYPERVISOR_PID,
      tid: SCHEDULER_TID,
      ts: s.tick,
      dur: Math.max(0, end - s.tick),
      args: ownFields(s),
    });
  }

  /** Adds an 'X' slice, trimmed so that it never half-overlaps the thread's previous slice. */
  private slice(out: ChromeEvent[], e: Omit<ChromeEvent, 'ph'> & { ts: number; dur: number }): void {
    const thread = `${e.pid}:${e.tid}`;
    const busy = this.busyUntil.get(thread) ?? 0;
    let dur = Math.max(0, e.dur);
    if (e.ts < busy && e.ts + dur > busy) dur = busy - e.ts;
    this.busyUntil.set(thread, Math.max(busy, e.ts + dur));
    out.push({ ...e, ph: 'X', dur });
  }

  /** A VM's vCPU thread, or one of the hypervisor's own (physical) CPUs. */
  private nameOwnThread(out: ChromeEvent[], vm: number, vcpu: number): void {
    this.nameThread(out, pidOf(vm), tidOf(vcpu), vm < 0 ? `cpu ${vcpu}` : `vCPU ${vcpu}`);
  }

  private nameThread(out: ChromeEvent[], pid: number, tid: number, name: string): void {
    if (!this.named.has(`${pid}`)) {
      this.named.add(`${pid}`);
      const processName = pid === HYPERVISOR_PID ? 'hypervisor' : `VM ${pid - 2}`;
      out.push({ name: 'process_name', ph: 'M', pid, tid: 0, args: { name: processName } });
      out.push({ name: 'process_sort_index', ph: 'M', pid, tid: 0, args: { sort_index: pid } });
    }
    if (!this.named.has(`${pid}:${tid}`)) {
      this.named.add(`${pid}:${tid}`);
      out.push({ name: 'thread_name', ph: 'M', pid, tid, args: { name } });
    }
  }
}

/** The top-level object minus traceEvents. */
export function perfettoEnvelope(params: TraceParams): {
  displayTimeUnit: 'ns';
  otherData: Record<string, unknown>;
} {
  return {
    displayTimeUnit: 'ns',
    otherData: {
      'vizor-trace': SCHEMA_VERSION,
      timeUnit: 'tick (virtual time); the viewer shows 1 tick as 1 us',
      params,
    },
  };
}

/** A whole trace as a Chrome trace-event JSON object. */
export function toPerfetto(events: Iterable<TraceEvent>, params: TraceParams = {}) {
  const conv = new PerfettoConverter();
  const traceEvents: ChromeEvent[] = [];
  for (const ev of events) traceEvents.push(...conv.push(ev));
  traceEvents.push(...conv.finish());
  return { ...perfettoEnvelope(params), traceEvents };
}

/**
 * Checks a Chrome trace-event object the way a viewer relies on it: a traceEvents array; every
 * event with a name, a known ph, integer pid/tid, ts (and dur for slices) as non-negative
 * numbers; a process_name and thread_name for every process and thread that has events; and
 * complete slices properly nested on each thread. Returns the problems found (empty = valid).
 */
export function checkChromeTrace(trace: unknown, maxProblems = 10): string[] {
  const problems: string[] = [];
  const te = (trace as { traceEvents?: unknown } | null)?.traceEvents;
  if (!Array.isArray(te)) return ['traceEvents is not an array'];
  const named = new Set<string>();
  const used = new Set<string>();
  const slices = new Map<string, { ts: number; end: number }[]>();
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  (te as ChromeEvent[]).forEach((e, i) => {
    const where = `traceEvents[${i}]`;
    if (typeof e.name !== 'string') problems.push(`${where}: no name`);
    if (!Number.isInteger(e.pid) || !Number.isInteger(e.tid)) problems.push(`${where}: pid/tid not integers`);
    if (e.ph === 'M') {
      const name = (e.args as { name?: unknown } | undefined)?.name;
      if (e.name === 'process_name' && typeof name === 'string') named.add(`${e.pid}`);
      if (e.name === 'thread_name' && typeof name === 'string') named.add(`${e.pid}:${e.tid}`);
      return;
    }
    if (e.ph !== 'X' && e.ph !== 'i')
      return void problems.push(`${where}: unexpected ph ${JSON.stringify(e.ph)}`);
    if (!isNum(e.ts)) problems.push(`${where}: bad ts`);
    used.add(`${e.pid}`).add(`${e.pid}:${e.tid}`);
    if (e.ph === 'i' && e.s !== 't' && e.s !== 'p' && e.s !== 'g')
      problems.push(`${where}: instant without scope`);
    if (e.ph === 'X') {
      if (!isNum(e.dur)) problems.push(`${where}: bad dur`);
      const key = `${e.pid}:${e.tid}`;
      const list = slices.get(key) ?? [];
      list.push({ ts: e.ts!, end: e.ts! + (e.dur ?? 0) });
      slices.set(key, list);
    }
  });
  for (const u of used)
    if (!named.has(u)) problems.push(`${u.includes(':') ? 'thread' : 'process'} ${u} has no name`);
  for (const [thread, list] of slices) {
    list.sort((a, b) => a.ts - b.ts || b.end - a.end);
    const open: number[] = [];
    for (const s of list) {
      while (open.length > 0 && open[open.length - 1]! <= s.ts) open.pop();
      if (open.length > 0 && s.end > open[open.length - 1]!) {
        problems.push(
          `thread ${thread}: slice at ${s.ts}..${s.end} overlaps its parent (ends ${open[open.length - 1]})`,
        );
      }
      open.push(s.end);
    }
  }
  return problems.slice(0, maxProblems);
}
