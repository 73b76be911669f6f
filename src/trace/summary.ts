// `vizor trace summary`: the table a teacher puts on a slide — events by kind, exits by reason,
// events by VM, virtual time spent in each VM and in the hypervisor, the top faulting addresses.
// Built incrementally (add one event at a time) so the CLI can stream files of any size.
import { EVENT_KINDS, type EventKind, type EventOf, type PageFaultOutcome, type TraceEvent } from './schema.ts';
import type { TraceParams } from './ndjson.ts';

const OUTCOMES: readonly PageFaultOutcome[] = ['bare', 'hidden', 'injected', 'ept-violation'];

export interface FaultCount {
  linear: number;
  count: number;
  outcomes: Record<PageFaultOutcome, number>;
}

export interface TraceSummary {
  events: number;
  firstTick: number;
  lastTick: number;
  byKind: Map<EventKind, number>;
  byExitReason: Map<string, { count: number; cycles: number }>;
  /** Event counts per VM (-1 = hypervisor). */
  byVm: Map<number, number>;
  /** Ticks spent running each VM (-1 = in the hypervisor, between an exit and the next entry). */
  timeByVm: Map<number, number>;
  faults: Map<number, FaultCount>;
  /** Live migration, when the trace has migration events. */
  migration?: MigrationSummary;
  /** Host frames, when the trace has frame events: allocs and frees, and in use at the end by "owner vmN". */
  frames?: FrameSummary;
}

export interface FrameSummary {
  allocs: number;
  frees: number;
  /** Frames held at the end of the trace, by owner ("guest vm0", "shadow vm1", "hypervisor"). */
  inUse: Map<string, number>;
}

export interface MigrationSummary {
  mode: string;
  /** Pre-copy rounds started. */
  rounds: number;
  pagesSent: number;
  /** Bytes over the link (the done event's total when there is one). */
  bytes: number;
  switchover?: string;
  /** downtime-end timeUs minus downtime-start timeUs. */
  downtimeUs?: number;
  remoteFaults: number;
}

const bump = <K>(m: Map<K, number>, k: K, by = 1): void => {
  m.set(k, (m.get(k) ?? 0) + by);
};

export class SummaryBuilder {
  private s: TraceSummary = {
    events: 0,
    firstTick: 0,
    lastTick: 0,
    byKind: new Map(),
    byExitReason: new Map(),
    byVm: new Map(),
    timeByVm: new Map(),
    faults: new Map(),
  };
  /** Who owns the CPU right now: a VM index, or -1 for the hypervisor. */
  private running: number | undefined;
  /** Between an exit and the end of its handling: events of the VM are the hypervisor's work. */
  private handling = false;
  /** Host tick at which the current exit's handling ends (its tick plus its modelled cycles). */
  private handlerEnd = 0;
  /**
   * Time counted as the hypervisor's after an exit's handling or a switch to a VM, that is the
   * VM's if its next event shows it ran meanwhile (any event of it but an entry). Traces without
   * entry events (e.g. --trace-kinds sched,exit) are then split right: a whole quantum passes
   * between a switch (or an exit's handling) and the VM's next exit.
   */
  private tentative: { vm: number; from: number; ticks: number } | null = null;

  add(ev: TraceEvent): void {
    const s = this.s;
    if (s.events === 0) s.firstTick = s.lastTick = ev.tick;
    s.events++;
    bump(s.byKind, ev.kind);
    bump(s.byVm, ev.vm);
    // Time since the previous event belongs to whoever was running after it.
    if (this.running !== undefined && ev.tick > s.lastTick) {
      bump(s.timeByVm, this.running, ev.tick - s.lastTick);
      const t = this.tentative;
      if (t !== null) t.ticks += ev.tick - Math.max(s.lastTick, t.from);
    }
    s.lastTick = Math.max(s.lastTick, ev.tick);
    this.settle(ev);
    this.track(ev);
    if (ev.kind === 'exit') {
      const r = s.byExitReason.get(ev.reason) ?? { count: 0, cycles: 0 };
      r.count++;
      r.cycles += ev.cycles;
      s.byExitReason.set(ev.reason, r);
    } else if (ev.kind === 'pagefault') {
      const f = s.faults.get(ev.linear) ?? {
        linear: ev.linear,
        count: 0,
        outcomes: { bare: 0, hidden: 0, injected: 0, 'ept-violation': 0 },
      };
      f.count++;
      f.outcomes[ev.outcome]++;
      s.faults.set(ev.linear, f);
    } else if (ev.kind === 'migration') {
      this.migration(ev);
    } else if (ev.kind === 'frame') {
      const f = (s.frames ??= { allocs: 0, frees: 0, inUse: new Map() });
      const owner = ev.ownerVm < 0 ? ev.owner : `${ev.owner} vm${ev.ownerVm}`;
      if (ev.op === 'alloc') f.allocs++;
      else f.frees++;
      bump(f.inUse, owner, ev.op === 'alloc' ? 1 : -1);
    }
  }

  private downtimeStart: number | undefined;

  private migration(ev: EventOf<'migration'>): void {
    const m = (this.s.migration ??= { mode: 'precopy', rounds: 0, pagesSent: 0, bytes: 0, remoteFaults: 0 });
    switch (ev.phase) {
      case 'start':
        if (ev.detail !== undefined) m.mode = ev.detail;
        break;
      case 'round-start':
        m.rounds++;
        break;
      case 'pages-sent':
        m.pagesSent += ev.pages;
        m.bytes += ev.bytes;
        break;
      case 'downtime-start':
        m.switchover = ev.detail;
        this.downtimeStart = ev.timeUs;
        break;
      case 'downtime-end':
        if (this.downtimeStart !== undefined) m.downtimeUs = ev.timeUs - this.downtimeStart;
        break;
      case 'remote-fault':
        m.remoteFaults++;
        break;
      case 'done':
        m.bytes = ev.bytes;
        break;
    }
  }

  /** The VM's first event after the tentative time began tells whose that time was. */
  private settle(ev: TraceEvent): void {
    const t = this.tentative;
    if (t === null || ev.kind === 'frame' || ev.tick < t.from) return;
    this.tentative = null;
    if (ev.vm === t.vm && ev.kind !== 'entry' && t.ticks > 0) {
      bump(this.s.timeByVm, -1, -t.ticks);
      bump(this.s.timeByVm, t.vm, t.ticks);
    }
  }

  /**
   * Who runs after this event: an exit hands the CPU to the hypervisor for its handling (until
   * the entry, or for its modelled cycles when the trace has no entries); a scheduling decision
   * is the hypervisor's too; any other event of a VM outside a handler means that VM is running.
   */
  private track(ev: TraceEvent): void {
    // Frame events come from the hypervisor's allocator wherever it runs (inside a handler, or in
    // the middle of a guest's nested walk): they say nothing about who holds the CPU.
    if (ev.kind === 'frame') return;
    if (ev.kind === 'exit') {
      this.running = -1;
      this.handling = true;
      this.handlerEnd = ev.tick + ev.cycles;
      this.tentative = { vm: ev.vm, from: this.handlerEnd, ticks: 0 };
    } else if (ev.kind === 'entry') {
      this.running = ev.vm;
      this.handling = false;
    } else if (ev.kind === 'sched' || ev.vm < 0) {
      this.running = -1;
      this.handling = false;
      if (ev.kind === 'sched' && ev.to >= 0) this.tentative = { vm: ev.to, from: ev.tick, ticks: 0 };
    } else if (!this.handling || ev.tick >= this.handlerEnd) {
      this.running = ev.vm;
      this.handling = false;
    }
  }

  result(): TraceSummary {
    return this.s;
  }
}

export function summarize(events: Iterable<TraceEvent>): TraceSummary {
  const b = new SummaryBuilder();
  for (const ev of events) b.add(ev);
  return b.result();
}

/** Lays out rows as columns: the first left-aligned, the rest right-aligned. */
function table(title: string, head: string[], rows: string[][]): string {
  const all = [head, ...rows];
  const widths = head.map((_, c) => Math.max(...all.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    '  ' + r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ');
  return [title, line(head), ...(rows.length > 0 ? rows.map(line) : ['  (none)'])].join('\n');
}

const pct = (n: number, total: number): string => (total === 0 ? '-' : `${((100 * n) / total).toFixed(1)}%`);
const num = (n: number): string => n.toLocaleString('en-US');
const vmName = (vm: number): string => (vm < 0 ? 'hypervisor' : `VM ${vm}`);
const hex8 = (n: number): string => '0x' + n.toString(16).padStart(8, '0');

export function formatSummary(
  s: TraceSummary,
  opts: { file?: string; params?: TraceParams; top?: number } = {},
): string {
  const out: string[] = [];
  const span = s.lastTick - s.firstTick;
  out.push(`trace ${opts.file ?? ''}`.trimEnd());
  out.push(`  ${num(s.events)} events, ticks ${num(s.firstTick)}..${num(s.lastTick)} (${num(span)} ticks)`);
  const params = Object.entries(opts.params ?? {});
  if (params.length > 0)
    out.push(
      `  params: ${params.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ')}`,
    );

  const kinds = EVENT_KINDS.filter((k) => s.byKind.has(k)).sort(
    (a, b) => s.byKind.get(b)! - s.byKind.get(a)!,
  );
  out.push(
    '',
    table(
      'Events by kind',
      ['kind', 'events', '%'],
      kinds.map((k) => [k, num(s.byKind.get(k)!), pct(s.byKind.get(k)!, s.events)]),
    ),
  );

  const exits = [...s.byExitReason].sort((a, b) => b[1].count - a[1].count);
  const totalExits = exits.reduce((n, [, r]) => n + r.count, 0);
  out.push(
    '',
    table(
      'Exits by reason',
      ['reason', 'exits', '%', 'cycles', 'avg cycles'],
      exits.map(([reason, r]) => [
        reason,
        num(r.count),
        pct(r.count, totalExits),
        num(r.cycles),
        num(Math.round(r.cycles / r.count)),
      ]),
    ),
  );

  const vms = [...s.byVm.keys()].sort((a, b) => a - b);
  out.push(
    '',
    table(
      'Events by VM',
      ['vm', 'events', '%'],
      vms.map((vm) => [vmName(vm), num(s.byVm.get(vm)!), pct(s.byVm.get(vm)!, s.events)]),
    ),
  );

  const timed = [...s.timeByVm.keys()].sort((a, b) => a - b);
  out.push(
    '',
    table(
      'Time (virtual ticks)',
      ['where', 'ticks', '%'],
      timed.map((vm) => [vmName(vm), num(s.timeByVm.get(vm)!), pct(s.timeByVm.get(vm)!, span)]),
    ),
  );

  const top = [...s.faults.values()]
    .sort((a, b) => b.count - a.count || a.linear - b.linear)
    .slice(0, opts.top ?? 10);
  const used = OUTCOMES.filter((o) => top.some((f) => f.outcomes[o] > 0));
  out.push(
    '',
    table(
      `Top faulting addresses (of ${num(s.faults.size)})`,
      ['linear', 'faults', ...used],
      top.map((f) => [hex8(f.linear), num(f.count), ...used.map((o) => num(f.outcomes[o]))]),
    ),
  );
  const m = s.migration;
  if (m !== undefined) {
    const rows = [
      ['mode', m.mode],
      ['pre-copy rounds', num(m.rounds)],
      ['pages sent in rounds', num(m.pagesSent)],
      ['bytes over the link', num(m.bytes)],
      ['switch-over', m.switchover ?? '-'],
      ['downtime (us)', m.downtimeUs === undefined ? '-' : num(m.downtimeUs)],
      ['remote faults', num(m.remoteFaults)],
    ];
    out.push('', table('Live migration', ['', 'value'], rows));
  }
  const f = s.frames;
  if (f !== undefined) {
    const rows = [...f.inUse].filter(([, n]) => n !== 0).sort((a, b) => a[0].localeCompare(b[0]));
    out.push('', table(`Host frames (${num(f.allocs)} allocated, ${num(f.frees)} freed)`, ['owner', 'in use at the end'], rows.map(([o, n]) => [o, num(n)])));
  }
  return out.join('\n') + '\n';
}
