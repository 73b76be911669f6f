// The debugging session as the views see it: run state, the machine snapshot at the last stop (and
// the one before, for change highlighting), memory regions the views asked for, console text and
// recent events. All fed by the worker's notices; views never talk to the worker themselves.
import type { TraceEvent } from '../../trace/schema.ts';
import type { EventBreakSpec } from '../../debug/event-conditions.ts';
import { decodeBatch } from '../../trace/binary.ts';
import { endsTheRun } from '../../worker/outcome.ts';
import type {
  AsmMap, CoreStatus, CpuView, Diagnostic, DisasmLine, MachineConfig, MachineSnapshotView, Notice, Region, RegionBytes,
  SourceFile, SpeedSetting, StopReason,
} from '../../worker/protocol.ts';
import type { MachineClient } from './machine-client.ts';
import type { ResolvedBreakpoint } from './breakpoints.svelte.ts';

export type RunState = 'starting' | 'no-program' | 'paused' | 'running' | 'finished';

export const REGISTER_NAMES = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp', 'esp', 'eip', 'eflags'] as const;
export const SEGMENT_NAMES = ['cs', 'ds', 'es', 'fs', 'gs', 'ss'] as const;
const MAX_EVENTS = 50_000;

/** Which top-level registers differ between two states (segment registers compare by selector and base). */
export function changedRegisters(before: CpuView | null, after: CpuView | null): Set<string> {
  const out = new Set<string>();
  if (!before || !after) return out;
  for (const r of [...REGISTER_NAMES, 'cr0', 'cr2', 'cr3', 'cr4'] as const) if (before[r] !== after[r]) out.add(r);
  for (const s of [...SEGMENT_NAMES, 'ldtr', 'tr'] as const) {
    if (before[s].selector !== after[s].selector || before[s].base !== after[s].base || before[s].limit !== after[s].limit) out.add(s);
  }
  if (before.gdtr.base !== after.gdtr.base || before.gdtr.limit !== after.gdtr.limit) out.add('gdtr');
  if (before.idtr.base !== after.idtr.base || before.idtr.limit !== after.idtr.limit) out.add('idtr');
  return out;
}

/**
 * The source line an address came from, via the assembler's map. Lines of a section assembled for
 * another place (`vstart`, run by a loader in a segment of its own) are offsets in CS: they match
 * `eip` when given, not the linear address.
 */
export function lineAt(map: AsmMap | null, address: number, eip?: number): { file: string; line: number } | null {
  if (!map) return null;
  for (const l of map.lines) {
    const at = l.segmentRelative ? eip : address;
    if (l.code && at !== undefined && at >= l.address && at < l.address + l.length) return { file: l.file, line: l.line };
  }
  return null;
}

export class Session {
  state = $state<RunState>('starting');
  core = $state.raw<CoreStatus | null>(null);
  snapshot = $state.raw<MachineSnapshotView | null>(null);
  /** The snapshot at the stop before this one: what "changed" is measured against. */
  previous = $state.raw<MachineSnapshotView | null>(null);
  regions = $state.raw<Record<string, RegionBytes>>({});
  disasm = $state.raw<DisasmLine[]>([]);
  canStepBack = $state(false);
  stopReason = $state<StopReason | null>(null);
  /** How many stops the machine has reported: tells a fresh stop from the one before it. */
  stops = $state(0);
  /** A load was asked for and its first stop has not come yet. */
  loading = $state(false);
  message = $state('');
  error = $state('');
  serial = $state('');
  events = $state.raw<TraceEvent[]>([]);
  map = $state.raw<AsmMap | null>(null);
  diagnostics = $state.raw<Diagnostic[]>([]);
  instructionsPerSecond = $state(0);
  /** Set when a saved trace is open: the event log replays it, the machine is not running. */
  replayName = $state('');
  /** The map of the program that is loaded (the editor's map may be newer, while typing). */
  loadedMap = $state.raw<AsmMap | null>(null);

  readonly cpu = $derived(this.snapshot?.cpu ?? null);
  readonly changed = $derived(changedRegisters(this.previous?.cpu ?? null, this.snapshot?.cpu ?? null));
  readonly linearEip = $derived(this.cpu ? (this.cpu.cs.base + this.cpu.eip) >>> 0 : null);
  readonly currentLine = $derived(this.linearEip === null ? null : lineAt(this.loadedMap, this.linearEip, this.cpu?.eip));
  readonly busy = $derived(this.state === 'running');

  private watched = new Map<string, Region>();

  constructor(private readonly client: MachineClient) {
    client.onNotice((n) => this.onNotice(n));
  }

  // ---- requests --------------------------------------------------------------------------------

  async assemble(files: SourceFile[], main: string): Promise<void> {
    const r = await this.client.request({ type: 'assemble', files, main });
    this.diagnostics = r.diagnostics;
    if (r.map) this.map = r.map;
  }

  async load(files: SourceFile[], main: string, config: MachineConfig): Promise<boolean> {
    this.message = 'loading…';
    this.loading = true;
    const r = await this.client.request({ type: 'load', files, main, config });
    this.diagnostics = r.diagnostics;
    if (r.map) this.map = r.map;
    if (!r.ok) {
      this.loading = false;
      this.state = 'no-program';
      this.message = r.error ? `cannot load: ${r.error}` : 'cannot load';
      return false;
    }
    this.loadedMap = r.map;
    this.previous = null;
    return true;
  }

  async loadImage(name: string, image: Uint8Array, config: MachineConfig): Promise<boolean> {
    const r = await this.client.request({ type: 'load-image', name, image, config });
    this.loadedMap = null;
    if (!r.ok) this.message = `cannot load ${name}: ${r.error}`;
    return r.ok;
  }

  continue(): void { if (this.state === 'paused') this.client.send({ type: 'continue' }); }
  pause(): void { if (this.state === 'running') this.client.send({ type: 'pause' }); }
  step(kind: 'into' | 'over' | 'out' | 'back'): void { if (this.state === 'paused' || (kind === 'back' && this.state === 'finished')) this.client.send({ type: 'step', kind }); }
  reverseContinue(): void { if (this.state !== 'running') this.client.send({ type: 'reverse-continue' }); }
  runTo(address: number): void { if (this.state === 'paused') this.client.send({ type: 'run-to', address }); }
  reset(): void { this.client.send({ type: 'reset' }); }
  seek(instructions: number): void { if (this.state !== 'running') this.client.send({ type: 'seek', instructions }); }
  /** Goes to just after an event of the live run (the hypervisor timeline's clicks). */
  seekEvent(seq: number): void { if (this.state !== 'running') this.client.send({ type: 'seek-event', seq }); }
  /** Hypervisor mode: the debugger follows another VM's vCPU (each keeps its own history). */
  focus(vm: number): void { if (this.state !== 'no-program' && this.state !== 'starting') this.client.send({ type: 'focus', vm }); }
  /** The machine (bare) or the focused VM (hypervisor) as .vzs bytes. */
  saveSnapshot() { return this.client.request({ type: 'save-snapshot' }); }
  /** Restores a .vzs file as a new session; a refused file leaves the current one as it was. */
  async openSnapshot(name: string, bytes: Uint8Array, config: MachineConfig) {
    const r = await this.client.request({ type: 'open-snapshot', name, bytes, config });
    if (r.ok) {
      if (!r.sameProgram) this.loadedMap = null;
      this.previous = null;
    }
    return r;
  }
  setSpeed(speed: SpeedSetting): void { this.client.send({ type: 'speed', speed }); }
  setBreakpoints(list: ResolvedBreakpoint[]): void { this.client.send({ type: 'breakpoints', list }); }
  setEventBreakpoints(list: EventBreakSpec[]): void { this.client.send({ type: 'event-breakpoints', list }); }
  setWatchpoints(list: { address: number; length: number; kind: 'read' | 'write' | 'access' }[]): void { this.client.send({ type: 'watchpoints', list }); }
  typeSerial(text: string): void { this.client.send({ type: 'serial-in', text }); }
  pressKeys(scancodes: number[]): void { this.client.send({ type: 'key', scancodes }); }
  writeMemory(address: number, space: 'linear' | 'physical', bytes: Uint8Array): void { this.client.send({ type: 'write-memory', address, space, bytes }); }
  read(region: Region) { return this.client.request({ type: 'read', region }).then((r) => r.region); }
  tlb() { return this.client.request({ type: 'tlb' }); }
  translate(linear: number, cr3: number) { return this.client.request({ type: 'translate', linear, cr3 }).then((r) => r.translation); }

  /** A view asks for a memory window with every stop (pass null to stop watching). */
  watch(key: string, region: Omit<Region, 'key'> | null): void {
    if (region) this.watched.set(key, { ...region, key });
    else this.watched.delete(key);
    this.client.send({ type: 'watch', regions: [...this.watched.values()] });
  }

  /** Opens a saved trace (NDJSON) in the event log, without running anything. */
  openTrace(name: string, events: TraceEvent[]): void {
    this.events = events;
    this.replayName = name;
    this.message = `replaying ${name}: ${events.length} events`;
  }

  closeTrace(): void {
    this.replayName = '';
    this.events = [];
    this.message = 'closed the saved trace (new events of the live machine appear from the next step)';
  }

  // ---- notices ---------------------------------------------------------------------------------

  private onNotice(n: Notice): void {
    switch (n.type) {
      case 'ready':
        this.core = n.core;
        this.state = 'no-program';
        return;
      case 'running':
        this.state = 'running';
        this.message = n.speed.kind === 'full' ? 'running' : `running at ${n.speed.instructionsPerSecond} instructions per second`;
        return;
      case 'stopped': {
        const finished = endsTheRun(n.reason);
        this.previous = n.reason === 'loaded' ? null : this.snapshot;
        this.applyFrame(n);
        this.stopReason = n.reason;
        this.stops += 1;
        this.loading = false;
        this.state = finished ? 'finished' : 'paused';
        this.message = (n.detail || n.reason) + (finished ? ' — Reset (Shift+F5) starts again, Back steps back' : '');
        // For bench/ui: the moment the app first became usable.
        if (n.reason === 'loaded' && globalThis.performance?.getEntriesByName('vizor-interactive').length === 0) performance.mark('vizor-interactive');
        return;
      }
      case 'frame':
        this.previous = this.snapshot;
        this.applyFrame(n);
        return;
      case 'regions':
        this.regions = { ...this.regions, ...Object.fromEntries(n.regions.map((r) => [r.key, r])) };
        return;
      case 'progress':
        this.instructionsPerSecond = n.instructionsPerSecond;
        return;
      case 'console':
        if (n.device === 'serial') this.serial = n.reset ? n.text : this.serial + n.text;
        return;
      case 'events': {
        if (this.replayName) return; // a saved trace is open: the live machine's events wait
        let list = this.events;
        if (n.truncateAfterSeq !== null) list = list.filter((e) => e.seq <= n.truncateAfterSeq!);
        if (n.events) list = list.concat(n.events);
        if (n.binary) list = list.concat(decodeBatch(n.binary));
        if (list.length > MAX_EVENTS) list = list.slice(list.length - MAX_EVENTS);
        this.events = list;
        return;
      }
      case 'error':
        this.error = n.message;
        return;
    }
  }

  private applyFrame(f: { snapshot: MachineSnapshotView; regions: RegionBytes[]; disasm: DisasmLine[]; canStepBack: boolean }): void {
    this.snapshot = f.snapshot;
    this.regions = Object.fromEntries(f.regions.map((r) => [r.key, r]));
    this.disasm = f.disasm;
    this.canStepBack = f.canStepBack;
    this.error = '';
  }
}
