// The debugged machine's recorded run: the history snapshots, the guest input received between
// them, and what the run produced that going back in time rewinds (console text, the exception
// count). A replay from a snapshot delivers the recorded input at the same instructions, so it is
// the same run again. The base of the engine (engine.ts), which adds running and stopping.
import { History } from './history.ts';
import { deliver, deliverDue, InputLog, untilNext, type InputDevice, type InputPort } from './input.ts';
import { SnapshotPolicy } from './snapshot-policy.ts';
import type { DebugMachine, DebugRunResult } from './types.ts';

export interface RecordingOptions {
  /** Instructions between history snapshots at the least (0 disables reverse execution). Default 1,000,000. */
  snapshotInterval?: number;
  /** Byte budget for the history. Default 64 MiB. */
  historyBudgetBytes?: number;
  /** Largest fraction of run time snapshots may take (default 0.25; 0 = strictly every snapshotInterval). */
  snapshotOverhead?: number;
  /** Instructions after which a snapshot is taken whatever it costs (default 4 x snapshotInterval). */
  maxSnapshotInterval?: number;
  /** Milliseconds clock for the overhead limit (default performance.now). */
  clock?: () => number;
}

export abstract class Recording {
  readonly history: History;
  /** Text the guest wrote to its consoles so far (truncated when going back in time). */
  console = '';
  /**
   * Console text the guest writes for the first time (replays after going back do not repeat it):
   * hosts that print serial output (the CLI with --gdb) print through this.
   */
  onOutput: ((text: string) => void) | undefined;
  /** Called after the machine was moved back in time: consumers drop events with seq >= nextSeq. */
  onRewind: (nextSeq: number) => void = () => {};
  /** Exception events so far (tells step-back whether an instruction may have faulted). */
  exceptions = 0;
  /**
   * Guest input (serial bytes, PS/2 scan codes) the guest received, replayed after going back
   * (input.ts). Under the hypervisor every vCPU's debugger shares the host's log (VcpuTarget.input).
   */
  input = new InputLog();
  /** The devices input goes to; null: this target takes no input. */
  inputPort: InputPort | null = null;

  /** When to take the next snapshot, and how long a run may go before it. */
  protected readonly snapshots: SnapshotPolicy;
  /** Console length already handed to onOutput. */
  private printed = 0;

  constructor(
    readonly machine: DebugMachine,
    options: RecordingOptions,
  ) {
    const interval = options.snapshotInterval ?? 1_000_000;
    this.history = new History({ interval, budgetBytes: options.historyBudgetBytes ?? 64 * 1024 * 1024 });
    this.snapshots = new SnapshotPolicy(this.history, options.snapshotOverhead ?? 0.25, options.maxSnapshotInterval ?? 4 * interval, options.clock ?? (() => globalThis.performance.now()));
  }

  /** Console text from a console event; text not seen before goes to onOutput. */
  protected appendConsole(text: string): void {
    this.console += text;
    if (this.console.length > this.printed) {
      this.onOutput?.(this.console.slice(this.printed));
      this.printed = this.console.length;
    }
  }

  /**
   * The guest receives input now (typed by the user). Recorded at this position, so replays deliver
   * it at the same instruction; typed while in the past, it starts a new future (the snapshots and
   * inputs recorded after this point are dropped).
   */
  feedInput(device: InputDevice, bytes: number[]): void {
    const port = this.inputPort;
    if (!port) throw new Error('this machine takes no typed input');
    if (bytes.length === 0) return;
    const n = this.machine.cpu.instructions;
    const time = port.now ? port.now() : Number.NaN;
    const stamp = port.stamp?.();
    this.history.dropAfter(n, this.clockNow() ?? Number.POSITIVE_INFINITY);
    this.input.add({ n, time, device, bytes: bytes.slice(), ...stamp });
    deliver(port, this.input.advance());
  }

  /**
   * The target's clock, which tells apart points at the same instruction count (a CPU waiting in
   * HLT): virtual ns on a machine, the host tick under the hypervisor; undefined without one.
   */
  private clockNow(): number | undefined {
    const port = this.inputPort;
    return port?.stamp ? port.stamp().tick : port?.now?.();
  }

  /** The port, when this debugger replays the log itself (not when the target does: InputPort.stamp). */
  private get replayPort(): InputPort | null {
    const port = this.inputPort;
    return port && !port.stamp ? port : null;
  }

  /** Delivers recorded input whose position has been reached (replays; called between runs). */
  protected deliverDueInput(): void {
    const port = this.replayPort;
    if (port) deliverDue(this.input, port, this.machine.cpu.instructions);
  }

  /** How far the machine may run before the next recorded input is due (instructions of virtual time, maybe fractional). */
  protected untilInput(): number {
    const port = this.replayPort;
    return port ? untilNext(this.input, port, this.machine.cpu.instructions) : Number.POSITIVE_INFINITY;
  }

  /** Runs hook-free up to `max` instructions, stopping to deliver recorded input on time (replays). */
  runFree(max: number): DebugRunResult {
    const cpu = this.machine.cpu;
    const end = cpu.instructions + max;
    let r: DebugRunResult = { reason: 'instruction-limit' };
    while (cpu.instructions < end) {
      this.deliverDueInput();
      r = this.machine.run(Math.min(end - cpu.instructions, this.untilInput()));
      if (r.reason !== 'instruction-limit') break;
    }
    this.deliverDueInput();
    return r;
  }

  /** Records the current state in the history (positions must be newer than the newest entry). */
  takeSnapshot(): void {
    const n = this.machine.cpu.instructions;
    const newest = this.history.newest;
    if (newest && n <= newest.instructions) return;
    const t0 = this.snapshots.clock();
    const time = this.clockNow();
    this.history.add(n, this.machine.snapshot(), this.machine.emitter.nextSeq, { consoleLength: this.console.length, exceptions: this.exceptions, input: this.input.mark(), ...(time !== undefined ? { time } : {}) });
    this.snapshots.took(this.snapshots.clock() - t0);
  }
}
