// Migration events. The engine hands them to a callback and keeps them in its result, and
// `emitToStream` sends them into the event stream as the schema's 'migration' kind
// (`vizor migrate --trace` writes both hosts' streams as one).
import type { Emitter } from '../trace/emitter.ts';
import { KIND_BIT, type MigrationDetail, type MigrationPhase } from '../trace/schema.ts';

export type { MigrationPhase } from '../trace/schema.ts';

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
  /** downtime-start: 'converged' | 'round-limit' | 'postcopy' | 'source-ended'; start: 'precopy' | 'postcopy'. */
  detail?: MigrationDetail;
  /** remote-fault: the guest page that was fetched. */
  gfn?: number;
  /** downtime-end: how long the VM ran nowhere. */
  downtimeNs?: number;
  /**
   * Which guest pages (ascending): start = the live pages, round-start = the pages the round
   * sends, dirty = the pages dirtied during the round, downtime-start = the stop-and-copy's pages.
   * Kept in the engine's events (and `vizor migrate --events`), not in the event stream: the
   * trace carries them once, as the header's params.pages (page-map.ts).
   */
  gfns?: number[];
}

/** Hands a migration event to the event stream (when a listener wants the 'migration' kind). */
export function emitToStream(emitter: Emitter, vmId: number, e: MigrationEvent): void {
  if ((emitter.mask & KIND_BIT.migration) === 0) return;
  // Optional fields only when present: the NDJSON codec writes what the object holds.
  const saved = emitter.vm;
  emitter.vm = vmId;
  emitter.emit('migration', {
    phase: e.phase,
    ...(e.detail !== undefined ? { detail: e.detail } : {}),
    timeUs: Math.round(e.timeNs / 1000),
    round: e.round,
    pages: e.pages,
    bytes: e.bytes,
    ...(e.gfn !== undefined ? { gfn: e.gfn } : {}),
  });
  emitter.vm = saved;
}
