// What the migration view shows, derived from an NDJSON trace of `vizor migrate --trace`: the
// rounds (pages to send, dirtied meanwhile), the downtime, the guest's console on each host (the
// source until the 'resume' event, the destination after it: see src/migration/trace-merge.ts)
// and, for every migration event, the page counts at that moment for the page grid.
import { TraceReader } from '../../trace/reader.ts';
import type { EventOf, TraceEvent } from '../../trace/schema.ts';
import { decodePageMap, type PageMap } from '../../migration/page-map.ts';

export interface RoundInfo { round: number; toSend: number; dirtyAfter: number; startUs: number; endUs: number }
/** Page counts after one migration event: sent = current on the destination, dirty = changed since sent, clean = not sent yet. */
export interface PageState {
  label: string; timeUs: number; sent: number; dirty: number; clean: number; on: 'A' | 'B' | 'none';
  /** The migration event this moment follows. */
  phase: string; round: number; gfn?: number;
}

export interface MigrationModel {
  params: Record<string, unknown>;
  mode: string;
  totalPages: number;
  rounds: RoundInfo[];
  switchover: string;
  finalPages: number;
  downtimeStartUs: number;
  downtimeUs: number;
  totalUs: number;
  bytes: number;
  remoteFaults: number;
  consoleA: string;
  consoleB: string;
  steps: PageState[];
  /** Which pages each round moved (the trace header's params.pages), or null for an older trace. */
  pages: PageMap | null;
}

export function parseMigrationTrace(text: string): { ok: true; model: MigrationModel } | { ok: false; error: string } {
  const reader = new TraceReader();
  const events: TraceEvent[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const r = reader.line(lines[i]!, i === lines.length - 1 && !text.endsWith('\n'));
    if (r.type === 'error') return { ok: false, error: `line ${r.error.line}: ${r.error.message}` };
    if (r.type === 'event') events.push(r.event);
  }
  const end = reader.finish();
  if (end) return { ok: false, error: `line ${end.line}: ${end.message}` };
  const model = buildModel(events, reader.header?.params ?? {});
  return model === null ? { ok: false, error: 'no migration events in this trace (record one with vizor migrate ... --trace FILE)' } : { ok: true, model };
}

export function buildModel(events: readonly TraceEvent[], params: Record<string, unknown>): MigrationModel | null {
  const ms = events.filter((e): e is EventOf<'migration'> => e.kind === 'migration');
  const start = ms.find((e) => e.phase === 'start');
  if (start === undefined) return null;
  const total = start.pages;
  const m: MigrationModel = {
    params, mode: start.detail ?? 'precopy', totalPages: total, rounds: [], switchover: '', finalPages: 0,
    downtimeStartUs: 0, downtimeUs: 0, totalUs: 0, bytes: 0, remoteFaults: 0, consoleA: '', consoleB: '', steps: [],
    pages: decodePageMap(params.pages),
  };
  let moved = false;
  let sent = 0, dirty = 0, on: PageState['on'] = 'A';
  for (const e of events) {
    if (e.kind === 'console') {
      if (moved) m.consoleB += e.text; else m.consoleA += e.text;
      continue;
    }
    if (e.kind !== 'migration') continue;
    let label: string = e.phase;
    switch (e.phase) {
      case 'round-start':
        m.rounds.push({ round: e.round, toSend: e.pages, dirtyAfter: 0, startUs: e.timeUs, endUs: e.timeUs });
        label = `round ${e.round}: ${e.pages} pages to send`;
        break;
      case 'pages-sent':
        sent = Math.min(total, sent + e.pages);
        dirty = 0;
        if (m.rounds.at(-1)) m.rounds.at(-1)!.endUs = e.timeUs;
        label = `round ${e.round}: ${e.pages} pages sent`;
        break;
      case 'dirty':
        dirty = Math.min(total, e.pages);
        sent = Math.max(0, sent - dirty);
        if (m.rounds.at(-1)) m.rounds.at(-1)!.dirtyAfter = e.pages;
        label = `round ${e.round}: ${e.pages} pages dirtied meanwhile`;
        break;
      case 'downtime-start':
        m.switchover = e.detail ?? '';
        // Post-copy sends no pages while stopped (only CPU and device state): e.pages is what is still remote.
        m.finalPages = m.mode === 'postcopy' ? 0 : e.pages;
        m.downtimeStartUs = e.timeUs;
        on = 'none';
        label = `downtime starts (${e.detail ?? ''})`;
        break;
      case 'downtime-end':
        m.downtimeUs = e.timeUs - m.downtimeStartUs;
        if (m.mode === 'precopy') { sent = total; dirty = 0; }
        label = `downtime ends: ${(m.downtimeUs / 1000).toFixed(3)} ms`;
        break;
      case 'resume':
        moved = true;
        on = 'B';
        label = 'the VM resumes on host B';
        break;
      case 'remote-fault':
        m.remoteFaults++;
        sent = Math.min(total, sent + 1);
        label = `remote fault: page ${e.gfn ?? '?'}`;
        break;
      case 'done':
        m.totalUs = e.timeUs;
        m.bytes = e.bytes;
        sent = total;
        dirty = 0;
        label = 'done';
        break;
    }
    const step: PageState = { label, timeUs: e.timeUs, sent, dirty, clean: Math.max(0, total - sent - dirty), on, phase: e.phase, round: e.round };
    if (e.gfn !== undefined) step.gfn = e.gfn;
    m.steps.push(step);
  }
  return m;
}

// ---- every page of the VM at a moment ------------------------------------------------------

/** A page's state in the grid. */
export const PAGE = { zero: 0, clean: 1, sending: 2, sent: 3, dirty: 4 } as const;
export type PageCode = (typeof PAGE)[keyof typeof PAGE];
export const PAGE_NAMES = ['zero', 'clean', 'sending', 'sent', 'dirty'] as const;

/**
 * The state of every guest page after moment `step` (replaying the page map): zero = never
 * backed or all zeros (nothing to send); clean = holds data still only on host A; sending = going
 * over the link at this moment (this round, the stop-and-copy, or a remote fault); sent = its
 * current contents are on host B; dirty = written since it was sent, so it goes again.
 */
export function pageStatesAt(m: MigrationModel, step: number): Uint8Array | null {
  const map = m.pages;
  if (map === null) return null;
  const s = new Uint8Array(map.guestPages);
  const set = (pages: readonly number[], code: PageCode) => { for (const g of pages) if (g < s.length) s[g] = code; };
  const all = (from: PageCode, to: PageCode) => { for (let g = 0; g < s.length; g++) if (s[g] === from) s[g] = to; };
  const rounds = map.rounds;
  for (let i = 0; i <= step && i < m.steps.length; i++) {
    const e = m.steps[i]!;
    const r = rounds[e.round];
    switch (e.phase) {
      case 'start': set(map.live, PAGE.clean); break;
      case 'round-start': if (r) set(r.send, PAGE.sending); break;
      case 'pages-sent': if (r) set(r.send, PAGE.sent); break;
      case 'dirty': if (r) set(r.dirty, PAGE.dirty); break;
      case 'downtime-start': set(map.final, PAGE.sending); break;
      case 'downtime-end':
        if (m.mode === 'precopy') { all(PAGE.sending, PAGE.sent); all(PAGE.dirty, PAGE.sent); all(PAGE.clean, PAGE.sent); }
        break;
      case 'remote-fault':
        all(PAGE.sending, PAGE.sent);
        if (e.gfn !== undefined && e.gfn < s.length) s[e.gfn] = PAGE.sending;
        break;
      case 'done': for (let g = 0; g < s.length; g++) if (s[g] !== PAGE.zero) s[g] = PAGE.sent; break;
    }
  }
  return s;
}

/** How many pages are in each state. */
export function countStates(states: Uint8Array): number[] {
  const n = [0, 0, 0, 0, 0];
  for (const c of states) n[c]!++;
  return n;
}

/** What a page's state means at this moment, in words (the grid's hover text). */
export function describePage(m: MigrationModel, step: number, gfn: number, code: number): string {
  const at = m.steps[step];
  const addr = (gfn * 4096).toString(16).padStart(8, '0');
  const head = `page ${gfn} (guest-physical 0x${addr})`;
  const round = at && at.round >= 0 ? at.round : -1;
  switch (code) {
    case PAGE.zero: return `${head}: zero — never written, nothing to send`;
    case PAGE.clean: return `${head}: clean — its data is still only on host A${m.mode === 'postcopy' && at?.on === 'B' ? ' (fetched on first touch, or pushed later)' : ''}`;
    case PAGE.sending: return `${head}: sending — ${at?.phase === 'remote-fault' ? 'fetched over the link: the guest touched it' : at?.phase === 'downtime-start' ? 'in the stop-and-copy' : `sent in round ${round}`}`;
    case PAGE.sent: return `${head}: sent — host B has its current contents`;
    default: return `${head}: dirty — written during round ${round} after it was sent; it goes again in round ${round + 1}${m.rounds.length === round + 1 ? ' (the stop-and-copy)' : ''}`;
  }
}
