// The event schema: the one contract between machine, hypervisor, debugger, UI, files and tests.
// Every event is { seq, tick, vm, vcpu, kind, ...fields }. Bump SCHEMA_VERSION on any change to a
// field's meaning; readers refuse files of another version with a clear message.

export const SCHEMA_VERSION = 1;

/** Fields every event carries. `tick` is virtual time (instructions retired / modelled cycles), never wall-clock. */
export interface EventBase {
  seq: number;
  tick: number;
  /** VM index; -1 for the host / hypervisor itself, 0 on a bare machine. */
  vm: number;
  vcpu: number;
}

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
  | 'SENSITIVE_INSTRUCTION';

export type PageFaultOutcome = 'bare' | 'hidden' | 'injected' | 'ept-violation';
export type ShadowOp = 'fill' | 'invalidate' | 'write-protect' | 'unprotect' | 'flush' | 'resync';
export type SchedReason = 'quantum' | 'halt' | 'wake' | 'yield' | 'exit' | 'start';

export interface EventFields {
  exit: {
    reason: ExitReason;
    qualification: number;
    guestLinear?: number;
    guestPhysical?: number;
    instructionLength: number;
    eip: number;
    /** Modelled cycles the exit plus its handling cost. */
    cycles: number;
  };
  entry: { eip: number; injectedVector?: number };
  exception: { vector: number; errorCode?: number; eip: number; cs: number };
  interrupt: { vector: number; source: 'pic' | 'software' | 'injected'; irq?: number };
  pagefault: {
    outcome: PageFaultOutcome;
    linear: number;
    physical?: number;
    errorCode: number;
    eip: number;
  };
  shadow: { op: ShadowOp; linear: number; guestPte: number; shadowPte: number; guestTable?: number };
  walk: {
    linear: number;
    /** 1-based number of this memory reference within the translation. */
    step: number;
    /** 2 = page directory, 1 = page table (guest levels); nested references carry their own level. */
    level: number;
    dimension: 'guest' | 'nested' | 'host';
    address: number;
    value: number;
  };
  tlb: { op: 'fill' | 'flush' | 'invlpg'; linear: number; physical?: number };
  sched: { from: number; to: number; reason: SchedReason; credits?: number[] };
  io: { port: number; size: 1 | 2 | 4; value: number; dir: 'in' | 'out' };
  mode: { mode: 'real' | 'protected'; paging: boolean; cr0: number };
  console: { device: 'serial' | 'vga' | 'debugcon'; text: string };
  halt: { eip: number };
  reset: { cause: 'power-on' | 'triple-fault' | 'keyboard-controller' | 'port-92' | 'software' };
  shutdown: { reason: 'triple-fault' | 'debug-exit' | 'instruction-limit' | 'stopped'; code?: number };
  warning: { message: string; eip?: number; bytes?: number[] };
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
];

export const KIND_BIT: Readonly<Record<EventKind, number>> = Object.fromEntries(
  EVENT_KINDS.map((k, i) => [k, 1 << i]),
) as Record<EventKind, number>;
