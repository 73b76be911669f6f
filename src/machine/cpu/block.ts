// Decoded blocks: straight-line runs of compiled instructions, up to a branch or the page end.
// A block is cached under its physical start address (and code size) and remembers up to two
// successor blocks by EIP, so hot loops go from block to block without a cache lookup.
import { Decoded, decode } from '../../x86/decode.ts';
import { DecodeError, RowFlag } from '../../x86/types.ts';
import { PAGE_RAM } from '../memory.ts';
import type { Cpu } from './cpu.ts';
import { compile, endsBlock, setsEip, startsBlock, type Exec } from './compile.ts';
import { buildJit, buildJitHooked, snippet, type JitFn, type JitHookedFn, type Snippet } from './jit.ts';

export interface BlockCache {
  cacheBlock(page: number, key: number, b: Block, startOff: number, endOff: number): void;
}

const MAX_BLOCK = 200;

export class Block {
  valid = true;
  /** False for blocks that are rebuilt on every visit (an instruction crosses into the next page). */
  chainable = true;
  epoch = -1;
  nextEip1 = -1;
  next1: Block | null = null;
  nextEip2 = -1;
  next2: Block | null = null;
  /** The last instruction sets cpu.eip itself (branch, REP, HLT ...). */
  lastSetsEip = false;
  /** Executions so far (the block is compiled to one function when it gets hot). */
  heat = 0;
  jit: JitFn | null = null;
  /** Inline source per instruction for the JIT (null entries call the closure); null once compiled. */
  snips: (Snippet | null)[] | null = null;

  /** The compiled twin for the hooked loop (debugger, --trace-cpu). */
  jitHooked: JitHookedFn | null = null;
  heatHooked = 0;

  compileJit(): void {
    const snips = this.snips;
    if (snips === null || snips.every((s) => s === null)) return;
    this.jit = buildJit(snips, this.eip, (this.eip + this.offs[this.n]!) & this.ipMask, this.lastSetsEip);
  }

  compileJitHooked(): void {
    const snips = this.snips;
    if (snips === null || snips.every((s) => s === null)) return;
    this.jitHooked = buildJitHooked(snips, this.offs, this.eip, this.ipMask, this.lastSetsEip);
  }

  constructor(
    /** EIP of the first instruction: closures bake next-instruction addresses from it. */
    readonly eip: number,
    readonly fns: Exec[],
    /** offs[i] = EIP offset of instruction i from the block start; offs[n] = the end. */
    readonly offs: Int32Array,
    readonly n: number,
    readonly ipMask: number,
  ) {}

  link(eip: number, b: Block, epoch: number): void {
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.nextEip1 = this.nextEip2 = -1;
      this.next1 = this.next2 = null;
    }
    if (this.nextEip1 === -1) {
      this.nextEip1 = eip;
      this.next1 = b;
    } else {
      this.nextEip2 = eip;
      this.next2 = b;
    }
  }
}

const dec = new Decoded();

/** Decodes and compiles the block at linear `lin` = physical `phys` for the CPU's current mode. */
export function buildBlock(cpu: Cpu, lin: number, phys: number): Block {
  const mem = cpu.memory;
  const page = phys >>> 12;
  const pageBase = phys & ~0xfff;
  const startOff = phys & 0xfff;
  const inRam = page < mem.size >>> 12 && mem.pageKind(page) === PAGE_RAM;
  const ram = mem.ram;
  const bits = cpu.code32 ? 32 : 16;
  const fns: Exec[] = [];
  const snips: (Snippet | null)[] = [];
  const offs: number[] = [0];
  let off = 0;
  let crossed = false;
  let lastSetsEip = false;
  const ipMask = cpu.code32 ? -1 : 0xffff;
  const fetch = (idx: number): number => {
    const po = startOff + off + idx;
    if (po < 4096) return inRam ? ram[pageBase + po]! : mem.read8(pageBase + po);
    if (fns.length > 0) return -1; // leave a page-crossing instruction to start the next block
    crossed = true;
    return mem.read8(cpu.translate((lin + off + idx) | 0, false, cpu.cpl === 3));
  };
  for (;;) {
    decode(dec, fetch, bits);
    if (dec.error === DecodeError.TRUNCATED && fns.length > 0) break;
    if (fns.length > 0 && startsBlock(dec)) break;
    const bytes: number[] = [];
    if (dec.row === null) {
      for (let k = 0; k < Math.max(1, Math.min(dec.length, 15)); k++) {
        const b = fetch(k);
        if (b < 0) break;
        bytes.push(b);
      }
    }
    const len = Math.max(dec.length, 1);
    const next = (cpu.eip + off + len) & ipMask;
    fns.push(compile(cpu, dec, bytes, next));
    snips.push(cpu.code32 ? snippet(dec, next) : null);
    off += len;
    offs.push(off);
    lastSetsEip = setsEip(dec);
    if (dec.row === null || endsBlock(dec)) break;
    if (startOff + off >= 4096 || fns.length >= MAX_BLOCK) break;
  }
  const b = new Block(cpu.eip, fns, Int32Array.from(offs), fns.length, ipMask);
  b.lastSetsEip = lastSetsEip;
  if (!crossed && inRam) b.snips = snips;
  if (crossed || !inRam) b.chainable = false;
  else
    cpu.cacheBlock(page, startOff | (cpu.code32 ? 0x1000 : 0), b, startOff, Math.min(4096, startOff + off));
  return b;
}

export { RowFlag };
