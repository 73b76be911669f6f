// The typed message protocol between the UI and the machine worker: two discriminated unions,
// one per direction. Everything here is plain data (structured-clone safe); big byte arrays travel
// as transferable buffers. The UI never sees the CPU object, only snapshots and event batches.
import type { TraceEvent } from '../trace/schema.ts';
import type { EventBreakSpec } from '../debug/event-conditions.ts';

export interface SourceFile {
  name: string;
  text: string;
}

export type BootModeSpec =
  | { kind: 'multiboot' }
  | { kind: 'boot-sector' }
  | { kind: 'flat'; address: number };

export type HvMode = 'bare' | 'hypervisor';

/** Bare machine, or N VMs under vizor's hypervisor with these techniques. */
export interface HvConfig {
  mode: HvMode;
  vms: number;
  cpu: 'vtx' | 'deprivilege' | 'bt';
  paging: 'shadow' | 'nested';
  sched: 'rr' | 'credit';
  /** Hypervisor mode: the VM whose vCPU the debugger drives (default 0). */
  focusVm?: number;
}

export interface MachineConfig {
  memoryMiB: number;
  boot: BootModeSpec;
  /** Absent = the bare machine. */
  hv?: HvConfig;
}

export interface Diagnostic {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  endColumn?: number;
  severity: 'error' | 'warning';
  message: string;
}

export interface SymbolInfo {
  name: string;
  address: number;
  file?: string;
  line?: number;
  column?: number;
}

/** One emitted instruction or data item: where it is in memory and where it came from. */
export interface LineInfo {
  address: number;
  length: number;
  file: string;
  line: number;
  /** True for an instruction, false for data. */
  code: boolean;
  /** In a section assembled for another place (vstart): `address` is an offset in CS (debug/source.ts). */
  segmentRelative?: boolean;
}

export interface AsmMap {
  symbols: SymbolInfo[];
  lines: LineInfo[];
}

/** Plain-data copies of the architectural state (same shape as the CPU's getState()). */
export interface SegmentView {
  selector: number;
  base: number;
  limit: number;
  access: number;
}

export interface CpuView {
  eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  es: SegmentView; cs: SegmentView; ss: SegmentView; ds: SegmentView; fs: SegmentView; gs: SegmentView;
  ldtr: SegmentView; tr: SegmentView;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  /**
   * Set under ring compression (--cpu deprivilege): the CPU's own GDTR/IDTR, which then hold the
   * VMM's tables; gdtr/idtr above are the guest's (what it loaded), which the views decode.
   */
  cpuTables?: { gdtr: { base: number; limit: number }; idtr: { base: number; limit: number } };
  cr0: number; cr2: number; cr3: number; cr4: number;
  halted: boolean;
}

export type Space = 'linear' | 'physical';

/** A window of guest memory a view wants with every stop (disassembly, stack, memory, tables). */
export interface Region {
  key: string;
  /** The address, or the offset from `relativeTo` (resolved by the worker at every stop). */
  address: number;
  length: number;
  space: Space;
  /** Follow a register: esp/eip (linear, with the segment base), gdtr/idtr/tr (table base), cr3 (the page directory, physical). */
  relativeTo?: 'esp' | 'eip' | 'gdtr' | 'idtr' | 'tr' | 'cr3';
}

/** What a view reads: bytes, with `null` where the linear address does not translate. */
export interface RegionBytes {
  key: string;
  address: number;
  space: Space;
  bytes: Uint8Array;
  /** Bitmap per 4 KiB page of the window: false where the page was not mapped. */
  mapped: boolean[];
}

export type StopReason =
  | 'loaded'
  | 'breakpoint'
  | 'step'
  | 'pause'
  | 'run-to'
  | 'history-start'
  | 'halted'
  | 'debug-exit'
  | 'triple-fault'
  | 'error';

export interface MachineSnapshotView {
  cpu: CpuView;
  /** Instructions retired since load: the virtual time shown on the UI. */
  instructions: number;
  /** The 25 lines of the VGA text screen. */
  vga: string[];
  /** Raw VGA text memory (char, attribute pairs), 80×25×2 bytes, for colours. */
  vgaCells: Uint8Array;
}

export type SpeedSetting = { kind: 'full' } | { kind: 'animate'; instructionsPerSecond: number };

export type Request =
  | { type: 'assemble'; id: number; files: SourceFile[]; main: string }
  | { type: 'load'; id: number; files: SourceFile[]; main: string; config: MachineConfig }
  | { type: 'load-image'; id: number; name: string; image: Uint8Array; config: MachineConfig }
  | { type: 'continue' }
  | { type: 'pause' }
  | { type: 'step'; kind: 'into' | 'over' | 'out' | 'back' }
  | { type: 'reverse-continue' }
  | { type: 'run-to'; address: number }
  | { type: 'reset' }
  /** `offset`: the address is an offset in CS, matched against EIP (a line of a vstart section). */
  | { type: 'breakpoints'; list: { id: number; address: number; offset?: boolean; condition?: string; enabled: boolean }[] }
  /** Event breakpoints: stop on the next event of a kind, optionally with one field = value (debug/event-conditions.ts). */
  | { type: 'event-breakpoints'; list: EventBreakSpec[] }
  | { type: 'watchpoints'; list: { address: number; length: number; kind: 'read' | 'write' | 'access' }[] }
  | { type: 'speed'; speed: SpeedSetting }
  | { type: 'watch'; regions: Region[] }
  | { type: 'read'; id: number; region: Region }
  | { type: 'write-memory'; address: number; space: Space; bytes: Uint8Array }
  | { type: 'serial-in'; text: string }
  | { type: 'key'; scancodes: number[] }
  | { type: 'translate'; id: number; linear: number; cr3: number }
  | { type: 'seek'; instructions: number }
  /** Goes to just after the event with this seq (the hypervisor timeline's clicks). */
  | { type: 'seek-event'; seq: number }
  | { type: 'tlb'; id: number }
  /** Hypervisor mode: the debugger follows this VM's vCPU from now on (each vCPU keeps its history). */
  | { type: 'focus'; vm: number }
  /** Saves the machine (bare) or the focused VM (hypervisor) as a .vzs snapshot file. */
  | { type: 'save-snapshot'; id: number }
  /** Restores a .vzs snapshot file: a new session starting from it (refused files keep the current one). */
  | { type: 'open-snapshot'; id: number; name: string; bytes: Uint8Array; config: MachineConfig };

/** One cached translation in the CPU's TLB. */
export interface TlbEntry {
  linear: number;
  physical: number;
  /** Usable from ring 3 / writable from ring 3 / writable from ring 0 (CR0.WP). */
  user: boolean;
  userWritable: boolean;
  supervisorWritable: boolean;
  dirty: boolean;
  mmio: boolean;
}

export interface WalkStep {
  level: 2 | 1;
  /** Physical address of the entry read. */
  address: number;
  value: number;
}

export interface Translation {
  linear: number;
  steps: WalkStep[];
  physical: number | null;
  /** Why it failed (not present, reserved bit), or the page size on success. */
  note: string;
}

export type Reply =
  | { type: 'assembled'; id: number; diagnostics: Diagnostic[]; map: AsmMap | null; size: number }
  | { type: 'loaded'; id: number; ok: boolean; diagnostics: Diagnostic[]; map: AsmMap | null; error?: string }
  | { type: 'memory'; id: number; region: RegionBytes }
  | { type: 'translation'; id: number; translation: Translation }
  | { type: 'tlb'; id: number; entries: TlbEntry[]; total: number }
  | { type: 'snapshot-saved'; id: number; ok: true; bytes: Uint8Array; name: string; summary: string }
  | { type: 'snapshot-saved'; id: number; ok: false; error: string }
  /** `config`: the machine settings the snapshot needs (memory, boot, bare or hypervisor). */
  /** `sameProgram`: the snapshot's image is the program loaded before (its source map still applies). */
  | { type: 'snapshot-opened'; id: number; ok: true; summary: string; config: MachineConfig; sameProgram: boolean }
  | { type: 'snapshot-opened'; id: number; ok: false; error: string };

export type Notice =
  | { type: 'ready'; core: CoreStatus }
  | { type: 'running'; speed: SpeedSetting }
  | {
      type: 'stopped';
      reason: StopReason;
      detail: string;
      snapshot: MachineSnapshotView;
      regions: RegionBytes[];
      /** Instructions from just before EIP to a little after it. */
      disasm: DisasmLine[];
      canStepBack: boolean;
    }
  /** While running: the same views as a stop, sent a few times a second (every tick when animating). */
  | { type: 'frame'; snapshot: MachineSnapshotView; regions: RegionBytes[]; disasm: DisasmLine[]; canStepBack: boolean }
  /** The watched regions read again now (a view started watching while paused). */
  | { type: 'regions'; regions: RegionBytes[] }
  | { type: 'progress'; instructions: number; eip: number; instructionsPerSecond: number }
  /** `reset: true` replaces everything the console showed (after a step back or a reload). */
  | { type: 'console'; device: 'serial' | 'vga'; text: string; reset: boolean }
  /** Trace events since the last batch; `binary` when the trace codec is available. */
  | { type: 'events'; binary: ArrayBuffer | null; events: TraceEvent[] | null; truncateAfterSeq: number | null }
  | { type: 'error'; message: string };

export type WorkerMessage = Reply | Notice;

/** What the worker found of the core (machine, assembler, disassembler, debugger, trace codec). */
export interface CoreStatus {
  machine: boolean;
  assembler: boolean;
  disassembler: boolean;
  debugger: boolean;
  traceCodec: boolean;
  missing: string[];
}

export interface DisasmLine {
  address: number;
  /** The instruction's bytes, as hex pairs. */
  bytes: string;
  text: string;
  /** The symbol whose address this is, when one is. */
  label?: string;
}
