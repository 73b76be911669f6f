// Migration events. The engine hands them to a callback and keeps them in its result, and
// `emitToStream` sends them into the event stream as the schema's 'migration' kind (the proposal
// below, now in src/trace/schema.ts; `vizor migrate --trace` writes both hosts' streams as one).
import type { Emitter } from '../trace/emitter.ts';
import { KIND_BIT } from '../trace/schema.ts';
export type MigrationPhase =
  | 'start' | 'round-start' | 'pages-sent' | 'dirty' | 'downtime-start' | 'downtime-end' | 'resume' | 'remote-fault' | 'done';

export interface MigrationEvent {
  phase: MigrationPhase;
  /** Migration clock in ns of virtual time (0 = migration start). */
  timeNs: number;
  /** Pre-copy round (0 = the first full copy); -1 outside rounds. */
  round: number;
  /** Pages concerned: to send (round-start), sent (pages-sent), dirty (dirty, downtime-start). */
  pages: number;
  /** Bytes on the link (pages-sent, downtime-end). */
  bytes: number;
  /** downtime-start: 'converged' | 'round-limit' | 'postcopy'; start: 'precopy' | 'postcopy'. */
  detail?: string;
  /** remote-fault: the guest page that was fetched. */
  gfn?: number;
  /** downtime-end: how long the VM ran nowhere. */
  downtimeNs?: number;
}

/** Hands a migration event to the event stream (when a listener wants the 'migration' kind). */
export function emitToStream(emitter: Emitter, vmId: number, e: MigrationEvent): void {
  const bit = (KIND_BIT as Readonly<Record<string, number>>)['migration'];
  if (bit === undefined || (emitter.mask & bit) === 0) return;
  const fields: Record<string, unknown> = { phase: e.phase };
  if (e.detail !== undefined) fields.detail = e.detail;
  Object.assign(fields, { timeUs: Math.round(e.timeNs / 1000), round: e.round, pages: e.pages, bytes: e.bytes });
  if (e.gfn !== undefined) fields.gfn = e.gfn;
  const saved = emitter.vm;
  emitter.vm = vmId;
  (emitter.emit as (kind: string, f: Record<string, unknown>) => void)('migration', fields);
  emitter.vm = saved;
}

/** The addition proposed for src/trace/schema.ts, landed as written (times in µs: the schema's integers are 32-bit). */
export const SCHEMA_PROPOSAL = `
// 1. next to SchedReason:
/** Phases of a live migration (src/migration). */
export type MigrationPhase = 'start' | 'round-start' | 'pages-sent' | 'dirty' | 'downtime-start' | 'downtime-end' | 'resume' | 'remote-fault' | 'done';
export type MigrationDetail = 'precopy' | 'postcopy' | 'converged' | 'round-limit' | 'source-ended' | 'destination';
// 2. in EventFields, after warning:
  /**
   * A live-migration phase (src/migration); vm = the migrating VM on the host that emits it (the
   * source until the VM resumes, then the destination). Downtime = the downtime-end event's
   * timeUs minus the downtime-start event's.
   */
  migration: {
    phase: MigrationPhase;
    /** start: precopy|postcopy; downtime-start: converged|round-limit|postcopy|source-ended; resume: destination. */
    detail?: MigrationDetail;
    /** Migration clock: µs of virtual time since the migration started. */
    timeUs: number;
    /** Pre-copy round (0 = the first full copy); -1 outside rounds. */
    round: number;
    /** Pages to send (round-start), sent (pages-sent), dirty (dirty, downtime-start). */
    pages: number;
    /** Bytes over the link in this phase (pages-sent, downtime-end) or in all (done). */
    bytes: number;
    /** remote-fault: the guest page fetched over the link. */
    gfn?: number;
  };
// 3. EVENT_KINDS: append 'migration' after 'warning'.
// 4. FIELD_SPECS, after warning (2 small columns: phase, detail; 5 wide: timeUs, round, pages, bytes, gfn):
  migration: {
    phase: oneOf('start', 'round-start', 'pages-sent', 'dirty', 'downtime-start', 'downtime-end', 'resume', 'remote-fault', 'done'),
    detail: opt(oneOf('precopy', 'postcopy', 'converged', 'round-limit', 'source-ended', 'destination')),
    timeUs: u32, round: i32, pages: u32, bytes: u32, gfn: opt(u32),
  },
`;
