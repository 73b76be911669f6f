// The event schema: the one contract between machine, hypervisor, debugger, UI, files and tests.
// Every event is { seq, tick, vm, vcpu, kind, ...fields }. Bump SCHEMA_VERSION on any change to a
// field's meaning; readers refuse files of another version with a clear message. Adding a kind
// (as 'migration' was) is no bump: every file written before still reads the same, and an older
// vizor given a newer file names the kind it does not know instead of misreading it. New kinds go
// at the end of EVENT_KINDS, so existing kinds keep their mask bits and binary codes.
//
// Two views of the same schema live here: the TypeScript types (for producers and consumers) and
// FIELD_SPECS (the same fields as data, for the reader's validation, the ring buffer's column
// layout and the codecs). The type of FIELD_SPECS forces the two to list exactly the same fields,
// with the same optionality, so they cannot drift apart.

export const SCHEMA_VERSION = 1;

/** Fields every event carries. `tick` is virtual time (instructions retired / modelled cycles), never wall-clock. */
export interface EventBase {
  /** Emitter-wide sequence number, strictly increasing within one stream (gaps = filtered out). */
  seq: number;
  /** Virtual time: a non-negative integer (one instruction = one tick; hypervisor work in modelled cycles). */
  tick: number;
  /** VM index; -1 for the host / hypervisor itself, 0 on a bare machine. */
  vm: number;
  /** vCPU index within the VM (0 on a bare machine). */
  vcpu: number;
}

/** VM-exit reasons, named as in Intel's VT-x basic exit reasons. */
export type ExitReason =
  | 'EXCEPTION_NMI'
  | 'EXTERNAL_INTERRUPT'
  | 'TRIPLE_FAULT'
  | 'INTERRUPT_WINDOW'
  | 'HLT'
  | 'INVLPG'
  | 'CR_ACCESS'
  | 'IO_INSTRUCTION'
  | 'CPUID'
  | 'RDMSR'
  | 'WRMSR'
  | 'RDTSC'
  | 'GDTR_IDTR_ACCESS'
  | 'LDTR_TR_ACCESS'
  | 'DR_ACCESS'
  | 'WBINVD'
  | 'INVD'
  | 'EPT_VIOLATION'
  | 'PREEMPTION_TIMER'
  | 'SENSITIVE_INSTRUCTION'
  /** PAUSE-loop exiting (Intel basic exit reason 40): a PAUSE spin at CPL 0 outlasted the PLE window. */
  | 'PAUSE_INSTRUCTION';

/**
 * What became of a page fault: 'bare' = an ordinary #PF on a machine without a hypervisor;
 * 'hidden' = the hypervisor fixed it (shadow fill, write-protect emulation) and the guest never
 * saw it; 'injected' = a true fault of the guest's own tables, reflected into the guest;
 * 'ept-violation' = the nested (EPT) table lacked the mapping.
 */
export type PageFaultOutcome = 'bare' | 'hidden' | 'injected' | 'ept-violation';
/** Shadow-paging operations of the hypervisor. */
export type ShadowOp = 'fill' | 'invalidate' | 'write-protect' | 'unprotect' | 'flush' | 'resync';
export type SchedReason = 'quantum' | 'halt' | 'wake' | 'yield' | 'exit' | 'start';
/** Phases of a live migration (src/migration). */
export type MigrationPhase =
  | 'start'
  | 'round-start'
  | 'pages-sent'
  | 'dirty'
  | 'downtime-start'
  | 'downtime-end'
  | 'resume'
  | 'remote-fault'
  | 'done';
export type MigrationDetail = 'precopy' | 'postcopy' | 'converged' | 'round-limit' | 'source-ended' | 'destination';
/**
 * Who holds a host frame: the hypervisor itself, a VM's guest memory (what its guest-physical
 * pages are backed by), or the VMM's page tables for a VM (shadow tables, nested/EPT tables).
 */
export type FrameOwner = 'hypervisor' | 'guest' | 'shadow' | 'nested';

export interface EventFields {
  /**
   * The vCPU left guest mode. `tick` is the moment the guest stopped, before any handling: the
   * hypervisor's work follows, `cycles` long, and the next entry of this vCPU comes no earlier
   * than tick + cycles. (Summaries and Perfetto slices count hypervisor time from this tick.)
   */
  exit: {
    reason: ExitReason;
    /** VT-x exit qualification (e.g. CR number and access type, I/O port/size/direction, fault linear address). */
    qualification: number;
    /** Guest linear address involved (page faults, INVLPG, EPT violations), when there is one. */
    guestLinear?: number;
    /** Guest physical address involved (EPT violations), when there is one. */
    guestPhysical?: number;
    /** Length in bytes of the instruction that exited (0 for asynchronous exits). */
    instructionLength: number;
    /** Guest EIP at the exit. */
    eip: number;
    /** Modelled cycles the exit plus its handling cost. */
    cycles: number;
  };
  /** The hypervisor resumed the vCPU in guest mode; `tick` is the moment the guest runs again. */
  entry: { eip: number; /** Vector injected on this entry, if any. */ injectedVector?: number };
  /** An exception was delivered (vector 0-31; errorCode for the vectors that push one). */
  exception: { vector: number; errorCode?: number; eip: number; /** CS selector at the fault. */ cs: number };
  /** A hardware or software interrupt was delivered; `irq` is the PIC line for 'pic'. */
  interrupt: { vector: number; source: 'pic' | 'software' | 'injected'; irq?: number };
  pagefault: {
    outcome: PageFaultOutcome;
    /** Faulting linear address (CR2). */
    linear: number;
    /** Guest-physical address, when the guest's own walk got that far (EPT violations, hidden faults). */
    physical?: number;
    /** #PF error code (P, W/R, U/S, RSVD, I/D bits). */
    errorCode: number;
    eip: number;
  };
  shadow: {
    op: ShadowOp;
    /** Linear address (page) the operation is about; 0 for whole-table flushes. */
    linear: number;
    /** The guest's PTE/PDE value the shadow entry was derived from. */
    guestPte: number;
    /** The shadow PTE/PDE value written (0 when cleared). */
    shadowPte: number;
    /** Guest-physical address of the guest page-table page involved, for write-protect/unprotect/resync. */
    guestTable?: number;
  };
  /** One memory reference of an address translation. */
  walk: {
    linear: number;
    /** 1-based number of this memory reference within the translation. */
    step: number;
    /** 2 = page directory, 1 = page table (guest levels); nested references carry their own level. */
    level: number;
    /**
     * Which table: the guest's own (walked in software by the hypervisor), the VM's nested (EPT)
     * table, or 'host' = the tables the physical CPU walks (a bare machine's own, or the shadow tables).
     */
    dimension: 'guest' | 'nested' | 'host';
    /** Physical address of the entry read. */
    address: number;
    /** The entry's value. */
    value: number;
  };
  tlb: { op: 'fill' | 'flush' | 'invlpg'; linear: number; physical?: number };
  /**
   * The scheduler switched the physical CPU from VM `from` to VM `to` (-1 = idle / none), emitted
   * by the hypervisor (vm -1). `tick` is when the decision is taken, before the world switch.
   */
  sched: {
    from: number;
    to: number;
    reason: SchedReason;
    /** Credits of every VM after the decision (credit scheduler). */ credits?: number[];
  };
  /** A port access; `value` is what was read or written. */
  io: { port: number; size: 1 | 2 | 4; value: number; dir: 'in' | 'out' };
  /** The CPU mode changed (CR0.PE / CR0.PG written). */
  mode: { mode: 'real' | 'protected'; paging: boolean; cr0: number };
  /** Text a guest wrote to a console device. */
  console: { device: 'serial' | 'vga' | 'debugcon'; text: string };
  /** The CPU halted (HLT) at `eip`. */
  halt: { eip: number };
  reset: { cause: 'power-on' | 'triple-fault' | 'keyboard-controller' | 'port-92' | 'software' };
  /** The machine stopped for good. */
  shutdown: { reason: 'triple-fault' | 'debug-exit' | 'instruction-limit' | 'stopped'; code?: number };
  /** Something a student should know about (unsupported instruction, Popek-Goldberg hole...). */
  warning: { message: string; eip?: number; /** Instruction bytes involved. */ bytes?: number[] };
  /**
   * A live-migration phase (src/migration); vm = the migrating VM on the host that emits it (the
   * source until the VM resumes, then the destination). Downtime = the downtime-end event's
   * timeUs minus the downtime-start event's. Added in schema version 1 without a bump: a new kind
   * changes no existing field's meaning, and old files simply never contain it.
   */
  migration: {
    phase: MigrationPhase;
    /** start: precopy|postcopy; downtime-start: converged|round-limit|postcopy|source-ended; resume: destination. */
    detail?: MigrationDetail;
    /** Migration clock: µs of virtual time since the migration started (32-bit, hence µs not ns). */
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
  /**
   * The hypervisor took a host physical frame ('alloc') or gave it back ('free'); one event per
   * frame, so the frames in use at any point of a trace are the allocs minus the frees before it
   * (the host memory map replays them, backwards too). Emitted by the hypervisor (vm -1, like
   * sched); `ownerVm` names the VM served. The frames
   * below the first allocatable one (the hypervisor's own, params.hvFrames) are never announced.
   * Added in schema version 1 without a bump, as 'migration' was.
   */
  frame: {
    op: 'alloc' | 'free';
    /** Host frame number (host physical address >>> 12). */
    frame: number;
    owner: FrameOwner;
    /** The VM the frame serves (its memory or its tables); -1 for the hypervisor's own. */
    ownerVm: number;
  };
}

export type EventKind = keyof EventFields;

export type TraceEvent = { [K in EventKind]: EventBase & { kind: K } & EventFields[K] }[EventKind];
export type EventOf<K extends EventKind> = Extract<TraceEvent, { kind: K }>;

/** Every kind, in a fixed order: the index is the kind's bit in an emitter mask and its code in binary batches. */
export const EVENT_KINDS: readonly EventKind[] = [
  'exit',
  'entry',
  'exception',
  'interrupt',
  'pagefault',
  'shadow',
  'walk',
  'tlb',
  'sched',
  'io',
  'mode',
  'console',
  'halt',
  'reset',
  'shutdown',
  'warning',
  'migration',
  'frame',
];

export const KIND_BIT: Readonly<Record<EventKind, number>> = Object.fromEntries(
  EVENT_KINDS.map((k, i) => [k, 1 << i]),
) as Record<EventKind, number>;

/** The kind's code in binary batches and the ring buffer (its index in EVENT_KINDS). */
export const KIND_CODE: Readonly<Record<EventKind, number>> = Object.fromEntries(
  EVENT_KINDS.map((k, i) => [k, i]),
) as Record<EventKind, number>;

/** Mask with every kind's bit set. */
export const ALL_KINDS_MASK = EVENT_KINDS.reduce((m, k) => m | KIND_BIT[k], 0);

/** Kinds that can fire once per instruction or memory reference: the expensive ones to listen to. */
export const PER_INSTRUCTION_KINDS: readonly EventKind[] = ['walk', 'tlb', 'io'];

export function isEventKind(name: string): name is EventKind {
  return Object.prototype.hasOwnProperty.call(KIND_BIT, name);
}

/** The mask for a list of kinds (an emitter listener's `mask`). */
export function maskOf(kinds: readonly EventKind[]): number {
  return kinds.reduce((m, k) => m | KIND_BIT[k], 0);
}

/** Parses "exit,pagefault" (the CLI's --trace-kinds); returns the unknown names when there are any. */
export function parseKindList(text: string): { kinds: EventKind[] } | { unknown: string[] } {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = names.filter((n) => !isEventKind(n));
  return unknown.length > 0 ? { unknown } : { kinds: names as EventKind[] };
}

// ---- the schema as data ----------------------------------------------------------------------

/**
 * How one field is checked and stored. Numbers are integers in the type's range; 'enum' values
 * are stored as their index; 'string' and the arrays go to a string table.
 */
export type FieldType =
  | { type: 'u8' }
  | { type: 'u16' }
  | { type: 'u32' }
  | { type: 'i32' }
  | { type: 'bool' }
  | { type: 'enum'; values: readonly (string | number)[] }
  | { type: 'string' }
  /** Array of finite numbers (any sign, fractions allowed). */
  | { type: 'numbers' }
  /** Array of bytes 0..255. */
  | { type: 'bytes' };

export type FieldSpec = FieldType & { optional?: boolean };

type SpecsOf<T> = {
  [F in keyof T]-?: undefined extends T[F]
    ? FieldType & { optional: true }
    : FieldType & { optional?: false };
};

const u8 = { type: 'u8' } as const;
const u16 = { type: 'u16' } as const;
const u32 = { type: 'u32' } as const;
const i32 = { type: 'i32' } as const;
const opt = <T extends FieldType>(t: T): T & { optional: true } => ({ ...t, optional: true });
const oneOf = <const V extends readonly (string | number)[]>(...values: V) => ({
  type: 'enum' as const,
  values,
});

export const EXIT_REASONS: readonly ExitReason[] = [
  'EXCEPTION_NMI',
  'EXTERNAL_INTERRUPT',
  'TRIPLE_FAULT',
  'INTERRUPT_WINDOW',
  'HLT',
  'INVLPG',
  'CR_ACCESS',
  'IO_INSTRUCTION',
  'CPUID',
  'RDMSR',
  'WRMSR',
  'RDTSC',
  'GDTR_IDTR_ACCESS',
  'LDTR_TR_ACCESS',
  'DR_ACCESS',
  'WBINVD',
  'INVD',
  'EPT_VIOLATION',
  'PREEMPTION_TIMER',
  'SENSITIVE_INSTRUCTION',
  // Appended (binary codes are indices): older files read the same.
  'PAUSE_INSTRUCTION',
];

/** Every kind's fields, in canonical order (the order NDJSON writes them). */
export const FIELD_SPECS: { readonly [K in EventKind]: SpecsOf<EventFields[K]> } = {
  exit: {
    reason: { type: 'enum', values: EXIT_REASONS },
    qualification: u32,
    guestLinear: opt(u32),
    guestPhysical: opt(u32),
    instructionLength: u8,
    eip: u32,
    cycles: u32,
  },
  entry: { eip: u32, injectedVector: opt(u8) },
  exception: { vector: u8, errorCode: opt(u32), eip: u32, cs: u16 },
  interrupt: { vector: u8, source: oneOf('pic', 'software', 'injected'), irq: opt(u8) },
  pagefault: {
    outcome: oneOf('bare', 'hidden', 'injected', 'ept-violation'),
    linear: u32,
    physical: opt(u32),
    errorCode: u32,
    eip: u32,
  },
  shadow: {
    op: oneOf('fill', 'invalidate', 'write-protect', 'unprotect', 'flush', 'resync'),
    linear: u32,
    guestPte: u32,
    shadowPte: u32,
    guestTable: opt(u32),
  },
  walk: {
    linear: u32,
    step: u8,
    level: u8,
    dimension: oneOf('guest', 'nested', 'host'),
    address: u32,
    value: u32,
  },
  tlb: { op: oneOf('fill', 'flush', 'invlpg'), linear: u32, physical: opt(u32) },
  sched: {
    from: i32,
    to: i32,
    reason: oneOf('quantum', 'halt', 'wake', 'yield', 'exit', 'start'),
    credits: opt({ type: 'numbers' }),
  },
  io: { port: u16, size: oneOf(1, 2, 4), value: u32, dir: oneOf('in', 'out') },
  mode: { mode: oneOf('real', 'protected'), paging: { type: 'bool' }, cr0: u32 },
  console: { device: oneOf('serial', 'vga', 'debugcon'), text: { type: 'string' } },
  halt: { eip: u32 },
  reset: { cause: oneOf('power-on', 'triple-fault', 'keyboard-controller', 'port-92', 'software') },
  shutdown: { reason: oneOf('triple-fault', 'debug-exit', 'instruction-limit', 'stopped'), code: opt(u32) },
  warning: { message: { type: 'string' }, eip: opt(u32), bytes: opt({ type: 'bytes' }) },
  migration: {
    phase: oneOf('start', 'round-start', 'pages-sent', 'dirty', 'downtime-start', 'downtime-end', 'resume', 'remote-fault', 'done'),
    detail: opt(oneOf('precopy', 'postcopy', 'converged', 'round-limit', 'source-ended', 'destination')),
    timeUs: u32,
    round: i32,
    pages: u32,
    bytes: u32,
    gfn: opt(u32),
  },
  frame: { op: oneOf('alloc', 'free'), frame: u32, owner: oneOf('hypervisor', 'guest', 'shadow', 'nested'), ownerVm: i32 },
};

/** The base fields, in canonical order. */
export const BASE_FIELDS = ['seq', 'tick', 'vm', 'vcpu', 'kind'] as const;
