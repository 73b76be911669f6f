// Runs a lesson's kernel and records what a check looks at: each VM's serial output, how each VM
// ended, and the events of the kinds the expectations name. Kernels are assembled by vizor's own
// assembler, so this works in the browser as well as in Node. The hypervisor is reached through
// an injected HvRunner (the CLI or the worker supplies it), keeping this layer free of it.
import { assemble } from '../asm/index.ts';
import { Machine, BootError, type BootMode, type RunResult } from '../machine/machine.ts';
import { Emitter } from '../trace/emitter.ts';
import { maskOf, type EventKind, type TraceEvent } from '../trace/schema.ts';
import { LessonFormatError, type EndReason, type HvSettings, type LessonFiles, type LessonMeta, type MigrateSpec, type MigrationOutcome, type RunSpec } from './types.ts';

/** How one VM's run ended ('reset' and 'killed' only under the hypervisor, with its reason). */
export interface VmEnd {
  reason: EndReason | 'stopped' | 'reset' | 'killed';
  code?: number;
  message?: string;
}

export interface HvRunRequest {
  settings: HvSettings;
  vms: { name: string; image: Uint8Array; boot: BootMode; memoryBytes: number; weight?: number; cap?: number }[];
  /** Virtual-time budget for the whole run (all VMs together). */
  maxInstructions: number;
  /** The runner emits every VM's events here (console events carry each VM's serial output). */
  emitter: Emitter;
  /**
   * Migrate the first VM live to a second host (the others stay on the first); its events on
   * both hosts, and its serial output across the move, keep VM number 0.
   */
  migrate?: MigrateSpec;
}

/** Runs VMs under the hypervisor until each has ended or the budget is spent; one VmEnd per VM. */
export type HvRunner = (req: HvRunRequest) => { vms: VmEnd[]; migration?: MigrationOutcome };

export interface Observation {
  /** Labels of the run's first kernel (name → address), for "@label" values in check.json. */
  symbols: Map<string, number>;
  /** Serial output per VM index. */
  serial: string[];
  ends: VmEnd[];
  events: TraceEvent[];
  /** True when more events came than EVENT_LIMIT and the rest were dropped. */
  truncated: boolean;
  /** A migration run: what the migration did (absent when the runner could not migrate). */
  migration?: MigrationOutcome;
}

export const EVENT_LIMIT = 2_000_000;

/** Normalises "a/./b/../c" and refuses paths that leave the lessons root. */
export function normalisePath(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join('/');
}

/** Assembles `kernel` (relative to the lesson folder); assembly errors name file:line:column. */
export function buildKernel(files: LessonFiles, lesson: string, kernel: string): { bytes: Uint8Array; symbols: Map<string, number> } {
  const path = normalisePath(`${lesson}/${kernel}`);
  const source = path === undefined ? undefined : files.read(path);
  if (source === undefined) throw new LessonFormatError(`${lesson}/${kernel}`, 'kernel', 'no such file');
  const text = typeof source === 'string' ? source : new TextDecoder().decode(source);
  const result = assemble(text, {
    fileName: path,
    provider: {
      read(name: string) {
        const p = normalisePath(name);
        return p === undefined ? undefined : files.read(p);
      },
    },
  });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const first = errors[0]!;
    throw new LessonFormatError(`${first.file}:${first.line}:${first.column}`, 'assembly', `${first.message}${errors.length > 1 ? ` (and ${errors.length - 1} more errors)` : ''}`);
  }
  const symbols = new Map<string, number>();
  for (const sym of result.map.symbols) symbols.set(sym.name, sym.address);
  return { bytes: result.bytes, symbols };
}

function capture(emitter: Emitter, kinds: readonly EventKind[]): { events: TraceEvent[]; truncated: () => boolean } {
  const events: TraceEvent[] = [];
  let dropped = false;
  emitter.listen({
    mask: maskOf([...new Set<EventKind>([...kinds, 'console', 'shutdown'])]),
    onEvent: (ev) => {
      if (events.length < EVENT_LIMIT) events.push(ev);
      else dropped = true;
    },
  });
  return { events, truncated: () => dropped };
}

/** Each VM's serial text, from the console events (the bare machine is VM 0). */
function serialOf(events: readonly TraceEvent[], vms: number): string[] {
  const out: string[][] = Array.from({ length: vms }, () => []);
  for (const ev of events) {
    if (ev.kind === 'console' && ev.device === 'serial' && ev.vm >= 0 && ev.vm < vms) out[ev.vm]!.push(ev.text);
  }
  return out.map((parts) => parts.join(''));
}

function endOf(r: RunResult): VmEnd {
  return r.reason === 'debug-exit' ? { reason: 'debug-exit', code: r.code } : { reason: r.reason };
}

/** The kinds a run's expectations look at. */
export function kindsOf(run: RunSpec): EventKind[] {
  const kinds = new Set<EventKind>();
  for (const c of run.expect.counts) kinds.add(c.kind);
  for (const s of run.expect.sequences) for (const f of [...s.scope, ...s.steps]) kinds.add(f.kind);
  return [...kinds];
}

/** Runs one check run on the bare machine. Throws LessonFormatError for a kernel that does not build or boot. */
export function runBare(files: LessonFiles, meta: LessonMeta, run: RunSpec): Observation {
  const kernel = buildKernel(files, meta.name, run.vms[0]!.kernel);
  const emitter = new Emitter();
  const cap = capture(emitter, kindsOf(run));
  const machine = new Machine({ memoryBytes: meta.machine.memoryBytes, emitter });
  try {
    machine.load(kernel.bytes, meta.machine.boot);
  } catch (err) {
    if (err instanceof BootError) throw new LessonFormatError(`${meta.name}/${run.vms[0]!.kernel}`, 'boot', err.message);
    throw err;
  }
  const end = endOf(machine.run(run.maxInstructions));
  return { symbols: kernel.symbols, serial: serialOf(cap.events, 1), ends: [end], events: cap.events, truncated: cap.truncated() };
}

/** Runs one check run under the hypervisor through `hv`. */
export function runUnderHv(files: LessonFiles, meta: LessonMeta, run: RunSpec, hv: HvRunner): Observation {
  const emitter = new Emitter();
  const cap = capture(emitter, kindsOf(run));
  const kernels = run.vms.map((vm) => buildKernel(files, meta.name, vm.kernel));
  const vms = run.vms.map((vm, i) => {
    const spec: HvRunRequest['vms'][number] = {
      name: `vm${i}:${vm.kernel}`,
      image: kernels[i]!.bytes,
      boot: meta.machine.boot,
      memoryBytes: meta.machine.memoryBytes,
    };
    if (vm.weight !== undefined) spec.weight = vm.weight;
    if (vm.cap !== undefined) spec.cap = vm.cap;
    return spec;
  });
  const req: HvRunRequest = { settings: run.hv!, vms, maxInstructions: run.maxInstructions, emitter };
  if (run.migrate !== undefined) req.migrate = run.migrate;
  const result = hv(req);
  const obs: Observation = { symbols: kernels[0]!.symbols, serial: serialOf(cap.events, vms.length), ends: result.vms, events: cap.events, truncated: cap.truncated() };
  if (result.migration !== undefined) obs.migration = result.migration;
  return obs;
}
