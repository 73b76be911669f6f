// Breakpoint and watchpoint tables: tiny records looked up by address before each instruction
// (as Blink's breakpoint list), each with an optional compiled condition and a hit counter.
import { compileExpression, ExprError, type Compiled, type EvalContext } from './expr.ts';

/** Where a code breakpoint is. `line` is resolved through the assembler's address map. */
export type BreakpointLocation =
  | { kind: 'linear'; address: number }
  | { kind: 'physical'; address: number }
  /**
   * An offset in the code segment (EIP/IP), whatever CS.base is: code assembled for one place
   * (`section ... vstart=0x100`) and loaded at another, run either in a segment of its own (a
   * DOS-style program at 0800:0100: IP = 0x100) or copied to its vstart and run flat (CS.base 0,
   * EIP = the linear address). A line in such a section resolves to this kind.
   */
  | { kind: 'offset'; address: number }
  | { kind: 'line'; file: string; line: number };

export interface BreakpointSpec {
  location: BreakpointLocation;
  /** Stop only when this expression is non-zero (see expr.ts). */
  condition?: string;
  /** Stop only when the hit count satisfies this: "3" or "==3", ">3", ">=3", "%3" (every 3rd). */
  hitCondition?: string;
  enabled?: boolean;
  /** Removed after its first stop (run to cursor). */
  temporary?: boolean;
}

export interface Breakpoint {
  id: number;
  spec: BreakpointSpec;
  /** Linear or physical address checked before each instruction. */
  address: number;
  physical: boolean;
  /** `address` is an offset in CS (matched against EIP), not a linear address. */
  offset?: boolean;
  enabled: boolean;
  /** Times execution reached the address with the condition true. */
  hits: number;
  condition?: Compiled;
  hitTest?: (hits: number) => boolean;
}

export type WatchKind = 'read' | 'write' | 'access';

export interface WatchpointSpec {
  kind: WatchKind;
  address: number;
  length: number;
  physical?: boolean;
  condition?: string;
  enabled?: boolean;
}

export interface Watchpoint {
  id: number;
  spec: WatchpointSpec;
  enabled: boolean;
  hits: number;
  condition?: Compiled;
  /** Bytes last seen in the range (for value-change detection of writes). */
  shadow: Uint8Array;
}

/** One line of the assembler's address map (the fields the debugger needs). */
export interface LineMapEntry {
  address: number;
  file: string;
  line: number;
  /** The assembler's item kind; only 'code' items (or entries without a kind) take breakpoints. */
  kind?: string;
  /** `address` is an offset in its code segment, not where the image puts it (see sourceInfo). */
  segmentRelative?: boolean;
}

/** Parses a hit condition; throws ExprError with a column on bad input. */
export function compileHitCondition(text: string): (hits: number) => boolean {
  const m = /^\s*(==|>=|>|%)?\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ExprError(`bad hit condition '${text}' (use N, ==N, >N, >=N or %N)`, 1);
  const n = Number(m[2]);
  switch (m[1]) {
    case '>': return (h) => h > n;
    case '>=': return (h) => h >= n;
    case '%': return (h) => n > 0 && h % n === 0;
    default: return (h) => h === n;
  }
}

/** Addresses of `file:line` in the map (the lowest address of the first line at or after `line` that has code). */
export function resolveLine(map: readonly LineMapEntry[], file: string, line: number): number | undefined {
  return resolveLineEntry(map, file, line)?.address;
}

/** The map entry `resolveLine` picks (its `segmentRelative` says how to match the address). */
export function resolveLineEntry(map: readonly LineMapEntry[], file: string, line: number): LineMapEntry | undefined {
  const sameFile = (f: string) => f === file || f.endsWith('/' + file) || file.endsWith('/' + f);
  let best: LineMapEntry | undefined;
  for (const e of map) {
    if (!sameFile(e.file) || e.line < line || (e.kind !== undefined && e.kind !== 'code')) continue;
    if (best === undefined || e.line < best.line || (e.line === best.line && e.address < best.address)) best = e;
  }
  return best;
}

/** The code breakpoints, indexed by address for the per-instruction check. */
export class BreakpointTable {
  private readonly byId = new Map<number, Breakpoint>();
  private linear = new Map<number, Breakpoint[]>();
  private physical = new Map<number, Breakpoint[]>();
  private offsets = new Map<number, Breakpoint[]>();

  constructor(private readonly nextId: () => number) {}

  add(spec: BreakpointSpec, address: number, physical: boolean, offset = false): Breakpoint {
    const bp: Breakpoint = {
      id: this.nextId(),
      spec,
      address: address >>> 0,
      physical,
      ...(offset ? { offset: true } : {}),
      enabled: spec.enabled ?? true,
      hits: 0,
      condition: spec.condition !== undefined ? compileExpression(spec.condition) : undefined,
      hitTest: spec.hitCondition !== undefined ? compileHitCondition(spec.hitCondition) : undefined,
    };
    this.byId.set(bp.id, bp);
    this.reindex();
    return bp;
  }

  remove(id: number): boolean {
    const ok = this.byId.delete(id);
    this.reindex();
    return ok;
  }

  get(id: number): Breakpoint | undefined {
    return this.byId.get(id);
  }

  setEnabled(id: number, enabled: boolean): boolean {
    const bp = this.byId.get(id);
    if (!bp) return false;
    bp.enabled = enabled;
    this.reindex();
    return true;
  }

  list(): Breakpoint[] {
    return [...this.byId.values()];
  }

  /** True when any enabled breakpoint exists (else the CPU may run hook-free). */
  get active(): boolean {
    return this.linear.size > 0 || this.physical.size > 0 || this.offsets.size > 0;
  }

  /** True when some breakpoint matches an offset in CS (the caller then passes `offset`). */
  get hasOffsets(): boolean {
    return this.offsets.size > 0;
  }

  get hasPhysical(): boolean {
    return this.physical.size > 0;
  }

  /**
   * The breakpoint that stops execution at (linear, physical), counting hits; undefined if none.
   * `count` false evaluates without touching hit counters (reverse search replays). `offset` is
   * EIP (-1: offset breakpoints are not checked).
   */
  check(linear: number, physical: number, ctx: EvalContext, count = true, offset = -1): { bp: Breakpoint; error?: string } | undefined {
    const atLinear = this.linear.get(linear);
    const atPhysical = this.physical.get(physical);
    const atOffset = offset >= 0 ? this.offsets.get(offset) : undefined;
    if (atLinear === undefined && atPhysical === undefined && atOffset === undefined) return undefined;
    const all = atPhysical === undefined && atOffset === undefined ? atLinear! : [...(atLinear ?? []), ...(atPhysical ?? []), ...(atOffset ?? [])];
    for (const bp of all) {
      let error: string | undefined;
      if (bp.condition) {
        try {
          if (bp.condition(ctx) === 0) continue;
        } catch (e) {
          // A condition that cannot be evaluated stops (as GDB does) and says why.
          error = e instanceof Error ? e.message : String(e);
        }
      }
      const hits = bp.hits + 1;
      if (count) bp.hits = hits;
      // Reverse searches replay without counting: there a hit condition is not applied.
      if (count && bp.hitTest && !bp.hitTest(hits) && error === undefined) continue;
      return { bp, error };
    }
    return undefined;
  }

  private reindex(): void {
    this.linear = new Map();
    this.physical = new Map();
    this.offsets = new Map();
    for (const bp of this.byId.values()) {
      if (!bp.enabled) continue;
      const index = bp.offset ? this.offsets : bp.physical ? this.physical : this.linear;
      const list = index.get(bp.address);
      if (list) list.push(bp);
      else index.set(bp.address, [bp]);
    }
  }
}
