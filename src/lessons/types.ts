// The lesson format as types: what lesson.md's front matter says (title, goals, machine settings)
// and what check.json expects of a run (serial output, how it ended, event counts and sequences).
// lessons/README.md documents the same format for teachers. No Node APIs: files come through a
// LessonFiles provider, so the browser loads lessons the same way the CLI does.
import type { EventKind } from '../trace/schema.ts';
import type { BootMode } from '../machine/machine.ts';

/** Reads lesson files; paths are relative to the lessons root and use '/' (e.g. "01-bare-metal/lesson.md"). */
export interface LessonFiles {
  read(path: string): string | Uint8Array | undefined;
  /** The entries (files and folders) directly inside `dir` ('' = the root). */
  list(dir: string): string[];
}

export type CpuTechnique = 'vtx' | 'deprivilege' | 'bt';
export type PagingTechnique = 'shadow' | 'nested';
export type SchedPolicy = 'rr' | 'credit';

export interface HvSettings {
  cpu: CpuTechnique;
  paging: PagingTechnique;
  sched: SchedPolicy;
}

export interface MachineSettings {
  boot: BootMode;
  memoryBytes: number;
  maxInstructions: number;
}

export interface LessonMeta {
  /** Folder name, e.g. "01-bare-metal". */
  name: string;
  title: string;
  order: number;
  goals: string[];
  /** The kernel source a run uses unless it names another (relative to the lesson folder). */
  kernel: string;
  machine: MachineSettings;
  /** Defaults for runs under the hypervisor (check.json runs may override each field). */
  hv?: HvSettings;
  /** The markdown body after the front matter. */
  body: string;
}

/** A field predicate: a value (numbers may be "0x..." strings), a list (one of), a range, bits, text. */
export type FieldTest =
  | number
  | string
  | boolean
  | (number | string)[]
  /** Numbers in min/max/bits/clear may be "@label" until the kernel's symbols resolve them. */
  | { min?: number; max?: number; bits?: number; clear?: number; contains?: string; not?: FieldTest };

export interface EventFilter {
  kind: EventKind;
  /** Only events of this VM (0 on the bare machine; 0.. under the hypervisor, -1 the hypervisor itself). */
  vm?: number;
  where: Record<string, FieldTest>;
}

/** How many: exactly n, or a range. */
export type CountSpec = { min: number; max: number };

export interface CountExpectation extends EventFilter {
  count: CountSpec;
  /** Where in check.json, for messages: "runs[0].expect.counts[2]". */
  at: string;
}

export interface SequenceStep extends EventFilter {
  count: CountSpec;
}

export interface SequenceExpectation {
  name: string;
  at: string;
  /** Which events the sequence looks at: those of these filters (default: the kinds its steps name). */
  scope: EventFilter[];
  steps: SequenceStep[];
  /** true: the steps must cover the whole scoped stream, first event to last. */
  whole: boolean;
}

export interface SerialExpectation {
  vm: number;
  at: string;
  /** The whole output, exactly. */
  equals?: string;
  /** Whole lines that must appear in this order (others may come between them). */
  lines?: string[];
  /** Text that must appear anywhere. */
  contains?: string[];
  /** Text that must not appear. */
  excludes?: string[];
}

export type EndReason = 'debug-exit' | 'triple-fault' | 'instruction-limit' | 'halted';

export interface ExitExpectation {
  vm: number;
  at: string;
  reason: EndReason;
  /** The value written to port 0xF4 (debug-exit only). */
  code?: number;
}

export interface VmSpec {
  kernel: string;
  /** Credit-scheduler weight and cap (percent of one CPU, 0 = none). */
  weight?: number;
  cap?: number;
}

export type MigrationMode = 'precopy' | 'postcopy';
export type Switchover = 'converged' | 'round-limit' | 'postcopy' | 'source-ended';

/** A live migration of the run's first VM from host A to host B (both under the run's hv settings). */
export interface MigrateSpec {
  /** The migration starts when the VM has retired this many instructions. */
  at: number;
  bandwidthBitsPerSecond: number;
  latencyNs: number;
  mode: MigrationMode;
  maxRounds?: number;
  maxDowntimeNs?: number;
}

/** What a migration run did (the HvRunner reports it; the checker compares it). */
export interface MigrationOutcome {
  /** False when the VM ended before the migration point: nothing moved (`why` says so). */
  happened: boolean;
  why?: string;
  mode: MigrationMode;
  switchover?: Switchover;
  rounds: { pagesSent: number; dirtyAfter: number; durationNs: number }[];
  finalPages: number;
  downtimeNs: number;
  pagesSent: number;
  remoteFaults: number;
  /** Pre-copy: guest-memory checksums of both hosts at the switch-over. */
  sourceChecksum?: number;
  destChecksum?: number;
}

/** A range of numbers (ns for durations); either end may be open. */
export interface RangeSpec { min: number; max: number }

export interface MigrationExpectation {
  at: string;
  switchover?: Switchover;
  /** Pre-copy rounds before stop-and-copy. */
  rounds?: CountSpec;
  downtimeNs?: RangeSpec;
  /** Pages over the link in all (rounds + stop-and-copy, or post-copy's faults and push). */
  pagesSent?: CountSpec;
  /** Pages the stop-and-copy phase sent. */
  finalPages?: CountSpec;
  remoteFaults?: CountSpec;
  /** Pre-copy: both hosts' guest memory equal at the switch-over (no page lost). */
  checksumsEqual?: boolean;
}

export interface RunSpec {
  name: string;
  at: string;
  /** Absent: the bare machine. Present: under the hypervisor with these settings. */
  hv?: HvSettings;
  /** Present: the first VM migrates from host A to host B during the run (the others stay on A). */
  migrate?: MigrateSpec;
  /** The guests; on the bare machine exactly one. */
  vms: VmSpec[];
  maxInstructions: number;
  expect: {
    exit: ExitExpectation[];
    serial: SerialExpectation[];
    counts: CountExpectation[];
    sequences: SequenceExpectation[];
    migration?: MigrationExpectation;
  };
}

export interface CheckSpec {
  /** "hv": some runs need the hypervisor; they are reported as not checkable until it exists. */
  requires?: 'hv';
  /** Why, in words, for the pending report. */
  note?: string;
  runs: RunSpec[];
}

export interface Lesson {
  meta: LessonMeta;
  check: CheckSpec;
}

/** A problem with a lesson's files, named by file and field (or line). */
export class LessonFormatError extends Error {
  constructor(
    readonly file: string,
    readonly where: string,
    readonly problem: string,
  ) {
    super(`${file}: ${where}: ${problem}`);
  }
}
