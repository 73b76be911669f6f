// A small debugger engine over the machine: breakpoints with conditions, step into/over/out,
// run to an address, and reverse execution by checkpoints + deterministic replay.
// TEMPORARY: the app switches to src/debug (issue 6) once it lands; until then this keeps the
// worker honest — every answer comes from running the real machine.
import { Emitter } from '../trace/emitter.ts';
import { KIND_BIT, type TraceEvent } from '../trace/schema.ts';
import { compileCondition, type Condition } from './condition.ts';
import type { Core, CpuLike, MachineLike, RunResultLike } from './core.ts';
import { History } from './history.ts';
import type { CpuView } from './protocol.ts';
import { linearToPhysical } from './walk.ts';

export type OutcomeKind = 'budget' | 'breakpoint' | 'target' | 'halted' | 'debug-exit' | 'triple-fault' | 'history-start';

export interface Outcome {
  kind: OutcomeKind;
  detail: string;
}

interface Breakpoint {
  id: number;
  condition: Condition | null;
  conditionText?: string;
}

/** Events the UI gets by default: everything except the per-reference page walks. */
export const DEFAULT_EVENT_MASK = Object.values(KIND_BIT).reduce((m, b) => m | b, 0) & ~KIND_BIT.walk;

const PREFIXES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3]);
const STRING_OPS = new Set([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

export class Engine {
  readonly machine: MachineLike;
  readonly emitter = new Emitter();
  readonly history = new History();
  /** Everything the guest wrote to the serial port, tagged with the instruction count. */
  serialLog: { at: number; text: string }[] = [];
  /** Bytes typed into the serial console, and when the guest read them (for exact replay). */
  private inputQueue: number[] = [];
  private inputLog: { at: number; byte: number }[] = [];
  private inputsConsumed = 0;
  private breakpoints = new Map<number, Breakpoint>();
  /** Set when the run has ended for good (debug exit, triple fault, halt with IF=0). */
  finished: Outcome | null = null;
  pendingEvents: TraceEvent[] = [];

  constructor(core: Core, memoryBytes: number) {
    this.machine = core.createMachine({
      memoryBytes,
      emitter: this.emitter,
      serial: (text) => this.serialLog.push({ at: this.instructions, text }),
      serialInput: () => this.nextInput(),
    });
    this.emitter.listen({ mask: DEFAULT_EVENT_MASK, onEvent: (ev) => this.pendingEvents.push(ev) });
  }

  get instructions(): number {
    return this.machine.cpu.instructions;
  }

  state(): CpuView {
    return this.machine.cpu.getState();
  }

  load(image: Uint8Array, mode: unknown): void {
    this.machine.load(image, mode);
    this.history.clear();
    this.checkpoint();
  }

  setBreakpoints(list: { id: number; address: number; condition?: string; enabled: boolean }[]): string[] {
    const errors: string[] = [];
    this.breakpoints.clear();
    for (const b of list) {
      if (!b.enabled) continue;
      let condition: Condition | null = null;
      if (b.condition?.trim()) {
        try {
          condition = compileCondition(b.condition);
        } catch (e) {
          errors.push(`breakpoint condition "${b.condition}": ${(e as Error).message}`);
        }
      }
      this.breakpoints.set(b.address >>> 0, { id: b.id, condition, conditionText: b.condition });
    }
    return errors;
  }

  typeSerial(text: string): void {
    for (const ch of new TextEncoder().encode(text.replace(/\n/g, '\r'))) this.inputQueue.push(ch);
  }

  // ---- memory, as the views and conditions see it ------------------------------------------

  readPhys32(p: number): number {
    return this.machine.memory.read32(p >>> 0) >>> 0;
  }

  readLinear(address: number, size: 1 | 2 | 4, cpu = this.state()): number {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const p = linearToPhysical(address + i, cpu.cr0, cpu.cr3, cpu.cr4, (a) => this.readPhys32(a));
      v |= (p === null ? 0 : this.machine.memory.read8(p)) << (8 * i);
    }
    return v >>> 0;
  }

  linearEip(cpu: CpuView): number {
    return (cpu.cs.base + cpu.eip) >>> 0;
  }

  // ---- running ------------------------------------------------------------------------------

  /** Runs at most `budget` instructions, stopping at breakpoints (not at the first instruction) or when `until` says so. */
  run(budget: number, until?: (cpu: CpuView) => boolean, breakpoints = true): Outcome {
    if (this.finished) return this.finished;
    const start = this.instructions;
    const useHooks = (breakpoints && this.breakpoints.size > 0) || until !== undefined;
    let hit: Outcome | null = null;
    this.machine.cpu.hooks = useHooks
      ? {
          beforeInstruction: (cpu: CpuLike) => {
            if (cpu.instructions === start) return false;
            const s = cpu.getState();
            if (until?.(s)) {
              hit = { kind: 'target', detail: '' };
              return true;
            }
            const bp = breakpoints ? this.breakpoints.get((s.cs.base + s.eip) >>> 0) : undefined;
            if (bp && (!bp.condition || bp.condition({ cpu: s, readLinear: (a, n) => this.readLinear(a, n, s) }) !== 0)) {
              hit = { kind: 'breakpoint', detail: bp.conditionText ? `breakpoint (${bp.conditionText})` : 'breakpoint' };
              return true;
            }
            return false;
          },
        }
      : null;
    let result: RunResultLike;
    try {
      result = this.runChunked(budget);
    } finally {
      this.machine.cpu.hooks = null;
    }
    if (hit) return hit;
    return this.fromResult(result);
  }

  /** Runs in chunks so checkpoints fall every history.interval instructions. */
  private runChunked(budget: number): RunResultLike {
    let left = budget;
    for (;;) {
      const last = this.history.atOrBefore(Number.MAX_SAFE_INTEGER);
      const untilCheckpoint = last ? Math.max(1, last.instructions + this.history.interval - this.instructions) : left;
      const chunk = Math.min(left, untilCheckpoint);
      const before = this.instructions;
      const r = this.machine.run(chunk);
      left -= this.instructions - before;
      if (this.history.due(this.instructions)) this.checkpoint();
      if (r.reason !== 'instruction-limit' || left <= 0 || this.instructions === before) return r;
    }
  }

  private fromResult(r: RunResultLike): Outcome {
    switch (r.reason) {
      case 'instruction-limit':
      case 'stopped':
        return { kind: 'budget', detail: '' };
      case 'debug-exit':
        return (this.finished = { kind: 'debug-exit', detail: `the guest wrote ${r.code} to the debug-exit port (QEMU would exit with status ${(r.code << 1) | 1})` });
      case 'triple-fault':
        return (this.finished = { kind: 'triple-fault', detail: 'triple fault: the machine shut down' });
      case 'halted':
        return (this.finished = { kind: 'halted', detail: 'HLT with interrupts disabled: the machine would wait forever' });
    }
  }

  stepInto(): Outcome {
    if (this.finished) return this.finished;
    const r = this.machine.run(1);
    if (this.history.due(this.instructions)) this.checkpoint();
    const o = this.fromResult(r);
    return o.kind === 'budget' ? { kind: 'target', detail: '' } : o;
  }

  /** Step over CALL, INT, REP string instructions and LOOP; anything else is a step into. */
  stepOver(budget: number): Outcome {
    const s = this.state();
    const eip = this.linearEip(s);
    const bytes: number[] = [];
    for (let i = 0; i < 16; i++) bytes.push(this.readLinear(eip + i, 1, s));
    let i = 0;
    let rep = false;
    while (i < 15 && PREFIXES.has(bytes[i])) rep ||= bytes[i++] === 0xf2 || bytes[i - 1] === 0xf3;
    const op = bytes[i];
    const modrmReg = (bytes[i + 1] >> 3) & 7;
    const callLike = op === 0xe8 || op === 0x9a || (op === 0xff && (modrmReg === 2 || modrmReg === 3)) || op === 0xcd || op === 0xcc || op === 0xce;
    if (rep && STRING_OPS.has(op)) return this.run(budget, (c) => this.linearEip(c) !== eip);
    if (op >= 0xe0 && op <= 0xe2) return this.run(budget, (c) => this.linearEip(c) === eip + i + 2);
    if (!callLike) return this.stepInto();
    const first = this.stepInto();
    if (first.kind !== 'target') return first;
    const after = this.state();
    if (after.esp >= s.esp) return first; // nothing pushed: it faulted or was not taken
    const returnTo = (s.cs.base + this.readLinear(after.ss.base + after.esp, (s.cs.access & 0x400) !== 0 ? 4 : 2, after)) >>> 0;
    return this.run(budget, (c) => this.linearEip(c) === returnTo && c.esp >= s.esp);
  }

  /** Runs until the current function returns: stops just after a RET/IRET taken at this stack depth. */
  stepOut(budget: number): Outcome {
    const s = this.state();
    const atRet = (c: CpuView) => {
      const op = this.readLinear(this.linearEip(c), 1, c);
      return (op === 0xc3 || op === 0xc2 || op === 0xcb || op === 0xca || op === 0xcf) && c.esp >= s.esp;
    };
    if (atRet(s)) return this.stepInto();
    const o = this.run(budget, atRet);
    return o.kind === 'target' ? this.stepInto() : o;
  }

  runTo(address: number, budget: number): Outcome {
    return this.run(budget, (c) => this.linearEip(c) === address >>> 0);
  }

  // ---- going back -----------------------------------------------------------------------------

  /** Puts the machine at exactly `target` instructions (≤ now): restore + replay. */
  seek(target: number): void {
    const cp = this.history.atOrBefore(target);
    if (!cp) throw new Error('no checkpoint to go back to');
    this.machine.restore(cp.machine);
    this.emitter.nextSeq = cp.seq;
    this.serialLog.length = cp.serialChunks;
    this.inputsConsumed = cp.inputsConsumed;
    this.finished = null;
    this.pendingEvents = [];
    this.machine.cpu.hooks = null;
    while (this.instructions < target) {
      const before = this.instructions;
      const r = this.machine.run(target - this.instructions);
      if (r.reason !== 'instruction-limit' && r.reason !== 'stopped') {
        this.fromResult(r);
        break;
      }
      if (this.instructions === before) break;
    }
  }

  stepBack(): Outcome {
    const first = this.history.first;
    if (!first || this.instructions <= first.instructions) return { kind: 'history-start', detail: 'already at the start of the recorded history' };
    this.seek(this.instructions - 1);
    return { kind: 'target', detail: '' };
  }

  /** Goes back to the most recent breakpoint hit before now (or the start of history). */
  reverseContinue(): Outcome {
    const now = this.instructions;
    let end = now;
    for (const cp of this.history.before(now)) {
      const hits: number[] = [];
      this.seek(cp.instructions);
      const record = (c: CpuView) => {
        const bp = this.breakpoints.get(this.linearEip(c));
        if (bp && this.instructions < end && (!bp.condition || bp.condition({ cpu: c, readLinear: (a, n) => this.readLinear(a, n, c) }) !== 0)) hits.push(this.instructions);
        return false;
      };
      record(this.state());
      this.run(end - cp.instructions, record, false);
      const last = hits.filter((h) => h < now).pop();
      if (last !== undefined) {
        this.seek(last);
        return { kind: 'breakpoint', detail: 'breakpoint (reverse)' };
      }
      end = cp.instructions;
    }
    const first = this.history.first;
    if (first) this.seek(first.instructions);
    return { kind: 'history-start', detail: 'reached the start of the recorded history' };
  }

  private checkpoint(): void {
    this.history.add({
      instructions: this.instructions,
      machine: this.machine.snapshot(),
      seq: this.emitter.nextSeq,
      serialChunks: this.serialLog.length,
      inputsConsumed: this.inputsConsumed,
    });
  }

  private nextInput(): number | undefined {
    // Replaying: hand back what the guest read the first time, at the same point.
    if (this.inputsConsumed < this.inputLog.length) {
      const rec = this.inputLog[this.inputsConsumed];
      if (this.instructions < rec.at) return undefined;
      this.inputsConsumed++;
      return rec.byte;
    }
    const byte = this.inputQueue.shift();
    if (byte === undefined) return undefined;
    this.inputLog.push({ at: this.instructions, byte });
    this.inputsConsumed++;
    return byte;
  }
}
