// What the migration view shows, derived from an NDJSON trace of `vizor migrate --trace`: the
// rounds (pages to send, dirtied meanwhile), the downtime, the guest's console on each host (the
// source until the 'resume' event, the destination after it: see src/migration/trace-merge.ts)
// and, for every migration event, the page counts at that moment for the page grid.
import { TraceReader } from '../../trace/reader.ts';
import type { EventOf, TraceEvent } from '../../trace/schema.ts';

export interface RoundInfo { round: number; toSend: number; dirtyAfter: number; startUs: number; endUs: number }
/** Page counts after one migration event: sent = current on the destination, dirty = changed since sent, clean = not sent yet. */
export interface PageState { label: string; timeUs: number; sent: number; dirty: number; clean: number; on: 'A' | 'B' | 'none' }

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
    m.steps.push({ label, timeUs: e.timeUs, sent, dirty, clean: Math.max(0, total - sent - dirty), on });
  }
  return m;
}
