// The machine host: owns one Engine, answers the UI's requests and runs the machine in bounded
// slices so the worker's message queue is looked at every few milliseconds (pause answers within
// 100 ms even at full speed). Independent of the Worker global, so tests drive it directly.
import type { BootMode, Core } from './core.ts';
import { Engine } from './engine.ts';
import type { Outcome } from './outcome.ts';
import type { AsmMap, BootModeSpec, MachineConfig, Region, Request, SpeedSetting, StopReason, WorkerMessage } from './protocol.ts';
import { linearToPhysical, translate } from './walk.ts';
import { openSession, saveSession, type OpenedSnapshot } from './snapshot-file.ts';
import { encodeBatch } from '../trace/binary.ts';
import { readTlb } from './tlb.ts';
import { buildFrame, readRegion, type Frame } from './frame.ts';

export type Post = (msg: WorkerMessage, transfer?: Transferable[]) => void;
/** Runs fn soon, after pending messages have been handled. */
export type Schedule = (fn: () => void, delayMs: number) => void;

const SLICE_MS = 8; // wall time of one full-speed slice
const FRAME_MS = 100; // how often a running machine sends a frame to the views

function bootMode(b: BootModeSpec): BootMode {
  return b.kind === 'flat' ? { kind: 'flat', address: b.address } : { kind: b.kind };
}

export class MachineHost {
  private engine: Engine | null = null;
  private map: AsmMap | null = null;
  private regions: Region[] = [];
  private breakpoints: Extract<Request, { type: 'breakpoints' }>['list'] = [];
  private eventBreaks: Extract<Request, { type: 'event-breakpoints' }>['list'] = [];
  private watchpoints: Extract<Request, { type: 'watchpoints' }>['list'] = [];
  private speed: SpeedSetting = { kind: 'full' };
  private running = false;
  private sliceBudget = 20_000;
  private lastFrame = 0;
  private lastProgress = { at: 0, instructions: 0 };
  private serialSent = 0;
  private reloaded: { image: Uint8Array; config: MachineConfig } | null = null;
  /** The loaded program's name (for snapshot files). */
  private programName = 'program';

  constructor(
    private readonly core: Core,
    private readonly post: Post,
    private readonly schedule: Schedule,
    private readonly clock: () => number = () => performance.now(),
  ) {
    post({ type: 'ready', core: core.status });
  }

  handle(req: Request): void {
    try {
      this.dispatch(req);
    } catch (e) {
      this.running = false;
      this.post({ type: 'error', message: (e as Error).message });
    }
  }

  private dispatch(req: Request): void {
    switch (req.type) {
      case 'assemble': {
        const r = this.core.assemble(req.files, req.main);
        return this.post({ type: 'assembled', id: req.id, diagnostics: r.diagnostics, map: r.map, size: r.bytes?.length ?? 0 });
      }
      case 'load': {
        const r = this.core.assemble(req.files, req.main);
        if (!r.bytes) return this.post({ type: 'loaded', id: req.id, ok: false, diagnostics: r.diagnostics, map: r.map, error: 'the program has errors' });
        this.map = r.map;
        this.programName = req.main;
        const error = this.boot(r.bytes, req.config);
        this.post({ type: 'loaded', id: req.id, ok: !error, diagnostics: r.diagnostics, map: r.map, error });
        if (!error) this.stopped('loaded', 'loaded and reset: the first instruction is about to run');
        return;
      }
      case 'load-image': {
        this.map = null;
        this.programName = req.name;
        const error = this.boot(req.image, req.config);
        this.post({ type: 'loaded', id: req.id, ok: !error, diagnostics: [], map: null, error });
        if (!error) this.stopped('loaded', `loaded ${req.name}`);
        return;
      }
      case 'reset':
        if (this.reloaded) {
          this.boot(this.reloaded.image, this.reloaded.config);
          this.stopped('loaded', 'reset: back to the first instruction');
        }
        return;
      case 'breakpoints': {
        this.breakpoints = req.list;
        const errors = this.engine?.setBreakpoints(req.list) ?? [];
        for (const message of errors) this.post({ type: 'error', message });
        return;
      }
      case 'event-breakpoints':
        this.eventBreaks = req.list;
        for (const message of this.engine?.setEventBreakpoints(req.list) ?? []) this.post({ type: 'error', message });
        return;
      case 'watchpoints': {
        this.watchpoints = req.list;
        for (const message of this.engine?.setWatchpoints(req.list) ?? []) this.post({ type: 'error', message });
        return;
      }
      case 'speed':
        this.speed = req.speed;
        return;
      case 'watch':
        this.regions = req.regions;
        if (this.engine && !this.running) this.post({ type: 'regions', regions: this.regions.map((r) => readRegion(this.need(), r)) });
        return;
      case 'read':
        return this.post({ type: 'memory', id: req.id, region: readRegion(this.need(), req.region) });
      case 'tlb': {
        const { entries, total } = readTlb(this.need());
        return this.post({ type: 'tlb', id: req.id, entries, total });
      }
      case 'translate': {
        const e = this.need();
        return this.post({ type: 'translation', id: req.id, translation: translate(req.linear, req.cr3, e.state().cr4, (a) => e.readPhys32(a)) });
      }
      case 'write-memory': {
        const e = this.need();
        const cpu = e.state();
        req.bytes.forEach((b, i) => {
          const p = req.space === 'physical' ? req.address + i : linearToPhysical(req.address + i, cpu.cr0, cpu.cr3, cpu.cr4, (a) => e.readPhys32(a));
          if (p !== null) e.writePhys(p, Uint8Array.of(b));
        });
        // The past no longer leads here: the history restarts from this state (as a GDB write does).
        e.dbg.history.clear();
        e.dbg.takeSnapshot();
        return this.stopped('pause', `memory changed at ${req.space} 0x${req.address.toString(16)} (the history before this edit is dropped)`);
      }
      case 'save-snapshot':
        return this.saveSnapshot(req.id);
      case 'open-snapshot':
        return this.openSnapshot(req.id, req.name, req.bytes, req.config);
      case 'focus': {
        const e = this.need();
        this.running = false;
        e.focus(req.vm);
        this.serialSent = -1;
        return this.stopped('pause', `the debugger follows VM ${req.vm}'s vCPU now (the other VMs keep their schedule; each vCPU keeps its own history)`);
      }
      case 'serial-in':
        this.engine?.typeSerial(req.text);
        return;
      case 'key':
        this.engine?.pressKeys(req.scancodes);
        return;
      case 'pause':
        if (this.running) {
          this.running = false;
          this.stopped('pause', 'paused');
        }
        return;
      case 'continue':
        return this.startRunning();
      case 'step':
        return this.step(req.kind);
      case 'reverse-continue':
        return this.finishStep(this.need().reverseContinue(), true);
      case 'run-to':
        return this.finishStep(this.need().runTo(req.address), false);
      case 'seek-event': {
        const e = this.need();
        const o = e.seekEvent(req.seq);
        if (o === null) return this.post({ type: 'error', message: `event #${req.seq} is not in this run's history` });
        return this.finishStep(o.kind === 'target' ? { kind: 'target', detail: `went to event #${req.seq}: the first instruction boundary after it (instruction ${e.instructions})` } : o, true);
      }
      case 'seek': {
        const o = this.need().seek(req.instructions);
        return this.finishStep(o.kind === 'target' ? { kind: 'target', detail: `went to instruction ${req.instructions}` } : o, true);
      }
    }
  }

  private need(): Engine {
    if (!this.engine) throw new Error('no program is loaded');
    return this.engine;
  }

  private boot(image: Uint8Array, config: MachineConfig): string | undefined {
    this.running = false;
    try {
      this.engine?.dispose();
      this.engine = null;
      this.install(this.makeEngine(image, config), image, config);
      return undefined;
    } catch (e) {
      this.engine = null;
      return (e as Error).message;
    }
  }

  private makeEngine(image: Uint8Array, config: MachineConfig): Engine {
    const hv = config.hv?.mode === 'hypervisor' ? config.hv : null;
    const engine = new Engine(this.core, config.memoryMiB * 1024 * 1024, hv);
    engine.load(image, bootMode(config.boot));
    return engine;
  }

  /** Makes `engine` the session: the lists set so far apply to it, the views start again. */
  private install(engine: Engine, image: Uint8Array, config: MachineConfig): void {
    engine.setBreakpoints(this.breakpoints);
    engine.setEventBreakpoints(this.eventBreaks);
    engine.setWatchpoints(this.watchpoints);
    this.engine = engine;
    this.reloaded = { image, config };
    this.serialSent = 0;
    this.post({ type: 'console', device: 'serial', text: '', reset: true });
    this.post({ type: 'events', binary: null, events: null, truncateAfterSeq: -1 });
  }

  private saveSnapshot(id: number): void {
    const e = this.engine;
    if (!e || !this.reloaded) return this.post({ type: 'snapshot-saved', id, ok: false, error: 'no program is loaded' });
    this.running = false;
    const r = saveSession(e, this.reloaded.image, this.reloaded.config, this.programName);
    this.post({ type: 'snapshot-saved', id, ok: true, bytes: r.bytes, name: r.name, summary: r.summary }, [r.bytes.buffer as ArrayBuffer]);
  }

  /** A refused file (corrupt, another version, not a snapshot) leaves the current session as it was. */
  private openSnapshot(id: number, name: string, bytes: Uint8Array, current: MachineConfig): void {
    let opened: OpenedSnapshot;
    try {
      opened = openSession(this.core, bytes, current);
    } catch (e) {
      return this.post({ type: 'snapshot-opened', id, ok: false, error: `${name}: ${(e as Error).message}` });
    }
    this.running = false;
    this.engine?.dispose();
    // The program loaded now, saved partway: its source map still describes the memory.
    const old = this.reloaded?.image;
    const sameProgram = old !== undefined && old.length === opened.image.length && old.every((b, i) => b === opened.image[i]);
    if (!sameProgram) this.map = null;
    this.programName = opened.programName;
    this.install(opened.engine, opened.image, opened.config);
    this.post({ type: 'snapshot-opened', id, ok: true, summary: opened.summary, config: opened.config, sameProgram });
    this.stopped('loaded', `restored ${name}: ${opened.summary}`);
  }

  private step(kind: 'into' | 'over' | 'out' | 'back'): void {
    const e = this.need();
    this.running = false;
    if (kind === 'back') return this.finishStep(e.stepBack(), true);
    const o = kind === 'into' ? e.stepInto() : kind === 'over' ? e.stepOver() : e.stepOut();
    this.finishStep(o, false);
  }

  private finishStep(o: Outcome, wentBack: boolean): void {
    if (wentBack) this.serialSent = -1; // resend the whole console
    const reason: StopReason = o.kind === 'target' || o.kind === 'budget' ? 'step' : o.kind;
    this.stopped(reason, o.detail);
  }

  private startRunning(): void {
    const e = this.need();
    if (e.finished) return this.stopped(e.finished.kind as StopReason, e.finished.detail);
    if (this.running) return;
    this.running = true;
    this.lastProgress = { at: this.clock(), instructions: e.instructions };
    this.post({ type: 'running', speed: this.speed });
    this.schedule(() => this.slice(), 0);
  }

  /** One bounded piece of a run; re-schedules itself so requests (pause!) get in between. */
  private slice(): void {
    if (!this.running || !this.engine) return;
    const e = this.engine;
    const t0 = this.clock();
    const animate = this.speed.kind === 'animate';
    const budget = animate ? 1 : this.sliceBudget;
    const o = e.run(budget);
    const dt = this.clock() - t0;
    if (!animate && o.kind === 'budget') {
      // Aim each slice at SLICE_MS of wall time.
      const rate = budget / Math.max(dt, 0.05);
      this.sliceBudget = Math.max(1000, Math.min(5_000_000, Math.round(rate * SLICE_MS)));
    }
    if (o.kind !== 'budget') {
      this.running = false;
      return this.stopped(o.kind === 'target' ? 'run-to' : (o.kind as StopReason), o.detail);
    }
    this.flushOutput();
    const now = this.clock();
    if (animate || now - this.lastFrame >= FRAME_MS) {
      this.lastFrame = now;
      const ips = ((e.instructions - this.lastProgress.instructions) * 1000) / Math.max(1, now - this.lastProgress.at);
      this.lastProgress = { at: now, instructions: e.instructions };
      this.post({ type: 'progress', instructions: e.instructions, eip: e.state().eip, instructionsPerSecond: Math.round(ips) });
      this.post({ type: 'frame', ...this.frame() });
    }
    const delay = this.speed.kind === 'animate' ? 1000 / Math.max(1, this.speed.instructionsPerSecond) : 0;
    this.schedule(() => this.slice(), delay);
  }

  private flushOutput(): void {
    const e = this.need();
    const text = e.console;
    if (this.serialSent < 0 || this.serialSent > text.length) {
      this.post({ type: 'console', device: 'serial', text, reset: true });
    } else if (this.serialSent < text.length) {
      this.post({ type: 'console', device: 'serial', text: text.slice(this.serialSent), reset: false });
    }
    this.serialSent = text.length;
    if (e.rewoundTo !== null) {
      this.post({ type: 'events', binary: null, events: null, truncateAfterSeq: e.rewoundTo - 1 });
      e.rewoundTo = null;
    }
    if (e.pendingEvents.length > 0) {
      const binary = encodeBatch(e.pendingEvents.slice(-20_000));
      this.post({ type: 'events', binary, events: null, truncateAfterSeq: null }, [binary]);
      e.pendingEvents = [];
    }
  }

  private stopped(reason: StopReason, detail: string): void {
    this.running = false;
    this.flushOutput();
    const f = this.frame();
    this.post({ type: 'stopped', reason, detail, ...f });
  }

  private frame(): Frame {
    return buildFrame(this.need(), this.core, this.map, this.regions);
  }
}
