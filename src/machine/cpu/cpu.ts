// The CPU: run loops, decoded-block cache, reset and state. The class layers below it, each in its
// own file: CpuRegs (state.ts: registers, lazy flags) → CpuTlb (../tlb.ts) → CpuMmu (../mmu.ts:
// memory access) → Cpu. Exception and interrupt dispatch: interrupts.ts.
// Execution model: straight-line blocks of pre-compiled closures (one per instruction, specialised
// at decode time) cached per physical page and chained by successor EIP. The fast loop has no
// per-instruction hook cost; with `hooks` set a twin loop calls beforeInstruction() each time.
import type { IoBus, StopReason } from '../bus.ts';
import type { Memory } from '../memory.ts';
import type { Emitter } from '../../trace/emitter.ts';
import { Block, buildBlock, type BlockCache } from './block.ts';
import { CpuMmu } from '../mmu.ts';
import {
  deliverException,
  deliverSoftwareInterrupt,
  raiseUndefinedOpcode,
  reportModeChange,
  serviceInterrupt,
  singleStepTrap,
  wakeFromHalt,
} from './interrupts.ts';
import { CS, F_IF, F_TF, FAULT } from './state.ts';
import { getState, setState, saveSnapshot, loadSnapshot, resetState, type CpuState } from './snapshot.ts';

export type { CpuState, SegmentState } from './snapshot.ts';

export interface CpuHooks {
  /** Called before each instruction when hooks are attached (slow path). Return true to stop before executing it. */
  beforeInstruction?(cpu: Cpu): boolean;
  /**
   * Called for every data access while these hooks are attached (see mmu.ts for what counts):
   * linear and physical address of the first byte, size in bytes, write or read. Called before
   * the access, after its translation succeeded (an access that faults is not reported).
   */
  memoryAccess?(linear: number, physical: number, size: number, write: boolean): void;
}

const noHook = (_cpu: Cpu): boolean => false;

/** Executions after which a block is compiled to one JavaScript function. */
const JIT_THRESHOLD = 16;

export class Cpu extends CpuMmu implements BlockCache {
  hooks: CpuHooks | null = null;
  /** This CPU calls hooks.memoryAccess on its hooked path (debuggers check before offering read watchpoints). */
  readonly reportsMemoryAccess = true;
  /** Set once a triple fault shut the CPU down; cleared by reset(). */
  shutdown = false;
  /** Index in its block of the compiled-block instruction running now (for faults inside a JIT function). */
  bi = 0;
  /**
   * The block the run loops are executing now (null between blocks) and its start EIP: with `bi`
   * they give the running instruction's EIP to code called mid-block (the guest-mode TLB-miss
   * hook), see instructionEip(); EIP itself is only updated per block on the fast path.
   */
  execBlock: Block | null = null;
  execEip = 0;
  /** The loop running execBlock counts each instruction as it retires (the hooked loop): see retired(). */
  execCounted = false;
  /** Iterations the REP instruction ending the current block may run before the budget ends. */
  repLimit = 1;
  /** The last mode reported in a 'mode' event (CR0.PE | CR0.PG bits). */
  lastMode = 0;
  /** Decoded blocks per physical RAM page: key = offset | (code32 ? 0x1000 : 0). */
  readonly pageBlocks: (Map<number, Block> | undefined)[];
  /** Per RAM page: bit k set when decoded code covers bytes [k*128, k*128+127] (Memory's, shared). */
  readonly codeChunks: Uint32Array;

  constructor(memory: Memory, io: IoBus, emitter: Emitter) {
    super(memory, io, emitter);
    this.pageBlocks = new Array(memory.size >>> 12);
    this.codeChunks = memory.codeChunks;
    memory.onCodeWrite = (page) => this.invalidatePage(page);
    this.reset();
  }

  reset(): void {
    resetState(this);
    this.shutdown = false;
    this.lastMode = 0;
    this.flushTlb();
  }

  /** EIP of the running instruction, exact even mid-block (the fast loop only updates EIP per block). */
  override instructionEip(): number {
    const b = this.execBlock;
    return b === null ? this.eip : (this.execEip + b.offs[this.bi]!) & b.ipMask;
  }

  /**
   * Retired instructions, exact even mid-block: the fast loop adds a block's count when the block
   * ends, but events and device reads inside it must see the same virtual time however the run
   * was sliced (c.bi is the running instruction's index; the hooked loop counts one by one:
   * execCounted).
   */
  retired(): number {
    return this.execBlock === null || this.execCounted ? this.instructions : this.instructions + this.bi;
  }

  requestStop(): void {
    this.stopRequested = true;
    this.stopBlock = 1;
  }

  interruptCheck(): void {
    this.intrPending = true;
    this.stopBlock = 1;
  }

  getState(): CpuState {
    return getState(this);
  }
  setState(s: CpuState): void {
    setState(this, s);
  }
  saveSnapshot(): unknown {
    // Guest mode: a snapshot holds the guest's own architectural state (see GuestMode.guestView).
    const g = this.guest;
    return g === null || g.guestView === undefined
      ? saveSnapshot(this)
      : g.guestView(this, () => saveSnapshot(this), false);
  }
  loadSnapshot(s: unknown): void {
    const g = this.guest;
    if (g === null || g.guestView === undefined) loadSnapshot(this, s);
    else g.guestView(this, () => loadSnapshot(this, s), true);
  }

  // ---- decoded-code invalidation ---------------------------------------------------------------

  override codeWrite(p: number, size: number): void {
    const page = p >>> 12;
    const first = (p & 0xfff) >>> 7,
      last = ((p & 0xfff) + size - 1) >>> 7;
    const chunks = this.codeChunks[page]!;
    // Through Memory, so that every CPU sharing this memory (hypervisor vCPUs) drops its copy.
    if ((chunks >>> first) & 1 || (last < 32 && (chunks >>> last) & 1)) this.memory.onCodeWrite(page);
  }

  invalidatePage(page: number): void {
    const map = this.pageBlocks[page];
    if (map !== undefined) {
      for (const b of map.values()) b.valid = false;
      this.pageBlocks[page] = undefined;
    }
    this.codeChunks[page] = 0;
    this.codePages[page] = 0;
    this.stopBlock = 1;
  }

  /** Registers a freshly built block in the page cache. */
  cacheBlock(page: number, key: number, b: Block, startOff: number, endOff: number): void {
    let map = this.pageBlocks[page];
    if (map === undefined) this.pageBlocks[page] = map = new Map();
    map.set(key, b);
    if (this.codePages[page] === 0) this.markCodePage(page);
    let bits = 0;
    for (let c = startOff >>> 7; c <= Math.min(31, (endOff - 1) >>> 7); c++) bits |= 1 << c;
    this.codeChunks[page]! |= bits;
  }

  private lookupBlock(): Block {
    const eip = this.eip;
    if (eip >>> 0 > this.segLimit[CS]!) this.raise(13, 0);
    const lin = (this.segBase[CS]! + eip) | 0;
    this.codeLinPages[lin >>> 12] = 1;
    const e = this.tlb[lin >>> 12]!;
    const phys =
      (e & this.rmaskCpl) === 1 ? (e & ~0xfff) | (lin & 0xfff) : this.translate(lin, false, this.cpl === 3);
    const page = phys >>> 12;
    if (page < this.pageBlocks.length) {
      const map = this.pageBlocks[page];
      if (map !== undefined) {
        const b = map.get((phys & 0xfff) | (this.code32 ? 0x1000 : 0));
        if (b !== undefined && b.eip === eip) return b;
      }
    }
    return buildBlock(this, lin, phys);
  }

  /** The block at EIP: through the previous block's successor links when valid, else the cache. */
  private nextBlock(prev: Block | null, eip: number): Block {
    let b: Block | null = null;
    if (prev !== null && prev.epoch === this.epoch) {
      if (prev.nextEip1 === eip) b = prev.next1;
      else if (prev.nextEip2 === eip) b = prev.next2;
      if (b !== null && b.valid) return b;
    }
    b = this.lookupBlock();
    if (prev !== null) prev.link(eip, b, this.epoch);
    return b;
  }

  // ---- the run loops ---------------------------------------------------------------------------

  run(maxInstructions: number): StopReason {
    // A snapshot or restore cleared the memory's dirty bits: re-mark clean pages in the TLB (mmu.ts).
    if (this.cleanEpoch !== this.memory.cleanEpoch) this.rearmClean();
    const hooks = this.hooks;
    if (hooks !== null && hooks.memoryAccess !== undefined && this.accessHooks === null)
      return this.runReporting(maxInstructions, hooks);
    const target = this.instructions + maxInstructions;
    this.stopRequested = false;
    for (;;) {
      if (this.shutdown) return 'shutdown';
      if (this.halted && !wakeFromHalt(this)) return 'halt';
      if (this.intrPending && this.inhibit === 0 && (this.flags & F_IF) !== 0) serviceInterrupt(this);
      if (this.shutdown) return 'shutdown';
      if (this.instructions >= target) return 'budget';
      if (this.hooks !== null) {
        if (this.runHooked(target)) return 'stop';
      } else this.runFast(target);
      if (this.stopRequested) {
        this.stopRequested = false;
        return 'stop';
      }
    }
  }

  /** run() with every data access reported to hooks.memoryAccess (mmu.ts: the masks go to 0). */
  private runReporting(maxInstructions: number, hooks: CpuHooks): StopReason {
    this.accessHooks = hooks;
    this.updateMasks();
    try {
      return this.run(maxInstructions);
    } finally {
      this.accessHooks = null;
      this.updateMasks();
    }
  }

  /** Executes blocks until the budget ends or something needs the outer loop. */
  private runFast(target: number): void {
    let b: Block | null = null;
    let prev: Block | null = null;
    let i = 0;
    let blockEip = 0;
    let inJit = false;
    try {
      for (;;) {
        blockEip = this.eip;
        i = -1;
        b = this.nextBlock(prev, blockEip);
        let n = b.n;
        const left = target - this.instructions;
        const inh = this.inhibit;
        const tf = this.flags & F_TF;
        if (inh !== 0 || tf !== 0) n = 1;
        if (n > left) n = left;
        this.repLimit = left - n + 1;
        const jf = b.jit;
        this.execBlock = b;
        this.execEip = blockEip;
        this.execCounted = false;
        if (jf !== null && n === b.n && tf === 0) {
          inJit = true;
          jf(this, this.regs, b.fns, left);
          inJit = false;
        } else {
          if (b.snips !== null && ++b.heat === JIT_THRESHOLD) b.compileJit();
          const fns = b.fns;
          for (i = 0; i < n; i++) {
            this.bi = i;
            fns[i]!(this);
          }
          this.instructions += i;
          if (i < b.n || !b.lastSetsEip) this.eip = (blockEip + b.offs[i]!) & b.ipMask;
        }
        this.execBlock = null;
        if (inh !== 0) this.inhibit = 0;
        if (tf !== 0) {
          singleStepTrap(this);
          return;
        }
        if (this.stopBlock !== 0) {
          this.stopBlock = 0;
          return;
        }
        if (this.instructions >= target || (this.intrPending && (this.flags & F_IF) !== 0)) return;
        prev = b.chainable ? b : null;
      }
    } catch (e) {
      this.execBlock = null;
      if (e !== FAULT) throw e;
      this.stopBlock = 0;
      if (inJit) i = this.bi;
      if (i >= 0 && b !== null) {
        this.instructions += i;
        this.eip = (blockEip + b.offs[i]!) & b.ipMask;
        if (this.inhibit !== 0) this.inhibit = 0;
      }
      this.exception(this.excVector, this.excHasCode, this.excCode);
    }
  }

  /**
   * The hooked twin of runFast: beforeInstruction() before every instruction. Returns true to stop.
   * Unlike the fast loop it keeps `instructions` exact at every boundary (each instruction counts
   * as it retires) and runs one REP iteration per instruction slot, so a hook sees every iteration.
   */
  private runHooked(target: number): boolean {
    const hooks = this.hooks!;
    const before = hooks.beforeInstruction ?? noHook;
    let b: Block | null = null;
    let prev: Block | null = null;
    let i = 0;
    let blockEip = 0;
    let inJit = false;
    try {
      for (;;) {
        blockEip = this.eip;
        i = -1;
        b = this.nextBlock(prev, blockEip);
        let n = b.n;
        const left = target - this.instructions;
        const inh = this.inhibit;
        const tf = this.flags & F_TF;
        if (inh !== 0 || tf !== 0) n = 1;
        if (n > left) n = left;
        this.repLimit = 1;
        const fns = b.fns,
          offs = b.offs,
          ipMask = b.ipMask;
        const jh = b.jitHooked;
        if (jh !== null && n === b.n && tf === 0 && inh === 0) {
          // The compiled twin: the same hook calls, without the per-instruction closure calls.
          inJit = true;
          this.execBlock = b;
          this.execEip = blockEip;
          this.execCounted = true;
          const stopped = jh(this, this.regs, fns, before, hooks);
          this.execBlock = null;
          inJit = false;
          if (stopped) return true;
          if (this.stopBlock !== 0) {
            this.stopBlock = 0;
            return false;
          }
          if (this.instructions >= target || (this.intrPending && (this.flags & F_IF) !== 0)) return false;
          prev = b.chainable ? b : null;
          continue;
        }
        if (b.snips !== null && ++b.heatHooked === JIT_THRESHOLD) b.compileJitHooked();
        // EIP is set before each instruction, but an instruction may move it before its memory
        // accesses (CALL, REP): instructionEip() goes by the block and index, as in runFast.
        this.execBlock = b;
        this.execEip = blockEip;
        this.execCounted = true;
        for (i = 0; i < n; i++) {
          this.eip = (blockEip + offs[i]!) & ipMask;
          this.bi = i;
          // A spot for physical/linear watch callbacks: they belong here, next to the hook.
          if (before.call(hooks, this)) {
            this.execBlock = null;
            return true;
          }
          fns[i]!(this);
          this.instructions++;
        }
        this.execBlock = null;
        if (i < b.n || !b.lastSetsEip) this.eip = (blockEip + offs[i]!) & ipMask;
        if (inh !== 0) this.inhibit = 0;
        if (tf !== 0) {
          singleStepTrap(this);
          return false;
        }
        if (this.stopBlock !== 0) {
          this.stopBlock = 0;
          return false;
        }
        if (this.instructions >= target || (this.intrPending && (this.flags & F_IF) !== 0)) return false;
        prev = b.chainable ? b : null;
      }
    } catch (e) {
      this.execBlock = null;
      if (e !== FAULT) throw e;
      this.stopBlock = 0;
      if (inJit) i = this.bi;
      if (i >= 0 && b !== null) {
        // Retired instructions were counted one by one: only EIP goes back to the faulting one.
        this.eip = (blockEip + b.offs[i]!) & b.ipMask;
        if (this.inhibit !== 0) this.inhibit = 0;
      }
      this.exception(this.excVector, this.excHasCode, this.excCode);
      return false;
    }
  }

  // ---- interrupts and exceptions (interrupts.ts) ------------------------------------------------

  /** Delivers an exception with the double- and triple-fault rules (SDM vol. 3, table 6-5). */
  exception(vector: number, hasCode: boolean, code: number): void {
    deliverException(this, vector, hasCode, code);
  }

  /** INT n / INT3 / INTO: called by the instruction with EIP at the next instruction. */
  softwareInterrupt(vector: number): void {
    deliverSoftwareInterrupt(this, vector);
  }

  /** Emits a 'mode' event when CR0.PE or CR0.PG changed. */
  modeChanged(): void {
    reportModeChange(this);
  }

  /** #UD for bytes the CPU does not implement, with a warning event naming them. */
  undefinedOpcode(bytes: number[], eip: number): never {
    return raiseUndefinedOpcode(this, bytes, eip);
  }
}
