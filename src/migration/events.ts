// Migration events. PROPOSAL for src/trace/schema.ts (owned by the trace helper): a 'migration'
// event kind with these fields. Until it lands, the engine hands them to a callback and keeps
// them in its result; `toEmitterFields` is the exact shape the kind would carry.
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

/** Proposed addition to EventFields in schema.ts (and 'migration' appended to EVENT_KINDS). */
export const SCHEMA_PROPOSAL = `
  /** A live-migration phase (src/migration). vm = the migrating VM's id on the host emitting it. */
  migration: {
    phase: 'start' | 'round-start' | 'pages-sent' | 'dirty' | 'downtime-start' | 'downtime-end' | 'resume' | 'remote-fault' | 'done';
    round: number; pages: number; bytes: number;
    detail?: string; gfn?: number; downtimeNs?: number;
  };`;
