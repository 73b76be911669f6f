// Watchpoints: read / write / access on a byte range, linear or physical.
//
// How a hit is found exactly, at the instruction that made the access (the stop is at the
// boundary after it, as GDB expects of a watchpoint):
// - If the CPU reports data accesses on its hooked path (`hooks.memoryAccess(linear, physical,
//   size, write)`), every kind is exact, including same-value writes and implicit accesses
//   (pushes, string ops, interrupt frames). An instruction that faults did not retire: its
//   reported accesses are dropped (the engine clears the pending hit on the exception event).
// - Write (and the write half of access) watchpoints also compare the watched bytes before every
//   instruction: a change seen before instruction N+1 was made by instruction N. This finds the
//   writes no CPU reports (page walks setting A/D bits, devices) and, on a CPU without reports,
//   every write that changes a byte (a write of the value already there is not seen there).
//   Read watchpoints need the CPU's access report.
import { compileExpression, type EvalContext } from './expr.ts';
import { peekPhysical, translate } from './linear.ts';
import type { Watchpoint, WatchpointSpec } from './breakpoints.ts';
import type { DebugCpuState, DebugMemory, WatchHit } from './types.ts';

export class WatchpointTable {
  private readonly byId = new Map<number, Watchpoint>();
  private enabled: Watchpoint[] = [];
  private valueWatched = false;

  constructor(private readonly nextId: () => number) {}

  add(spec: WatchpointSpec, mem: DebugMemory, state: DebugCpuState): Watchpoint {
    if (!(spec.length >= 1 && spec.length <= 0x10000)) throw new RangeError(`watch length must be 1..65536, got ${spec.length}`);
    const wp: Watchpoint = {
      id: this.nextId(),
      spec: { ...spec, address: spec.address >>> 0 },
      enabled: spec.enabled ?? true,
      hits: 0,
      condition: spec.condition !== undefined ? compileExpression(spec.condition) : undefined,
      shadow: new Uint8Array(spec.length),
    };
    this.byId.set(wp.id, wp);
    this.resync(mem, state);
    return wp;
  }

  remove(id: number): boolean {
    const ok = this.byId.delete(id);
    this.reindex();
    return ok;
  }

  get(id: number): Watchpoint | undefined {
    return this.byId.get(id);
  }

  setEnabled(id: number, on: boolean, mem: DebugMemory, state: DebugCpuState): boolean {
    const wp = this.byId.get(id);
    if (!wp) return false;
    wp.enabled = on;
    this.resync(mem, state);
    return true;
  }

  list(): Watchpoint[] {
    return [...this.byId.values()];
  }

  get active(): boolean {
    return this.enabled.length > 0;
  }

  /** Some enabled watchpoint watches writes (the value comparison of checkChanged has work to do). */
  get comparesValues(): boolean {
    return this.valueWatched;
  }

  /** Re-reads every shadow copy (after a restore, a memory edit or an address-space switch we caused). */
  resync(mem: DebugMemory, state: DebugCpuState): void {
    this.reindex();
    for (const wp of this.enabled) this.readInto(wp, mem, state, wp.shadow);
  }

  /** An access the CPU reported: the first enabled watchpoint it hits. */
  onAccess(linear: number, physical: number, size: number, write: boolean, ctx: EvalContext): WatchHit | undefined {
    for (const wp of this.enabled) {
      const k = wp.spec.kind;
      if (k === 'read' && write) continue;
      if (k === 'write' && !write) continue;
      const a = wp.spec.physical ? physical : linear;
      if (a < 0) continue;
      const lo = wp.spec.address;
      const hi = lo + wp.spec.length;
      if (a + size <= lo || a >= hi) continue;
      if (wp.condition && !safeTrue(wp, ctx)) continue;
      wp.hits++;
      return { id: wp.id, kind: k, address: Math.max(a, lo) >>> 0 };
    }
    return undefined;
  }

  /** Takes back a hit that did not happen after all (its instruction faulted). */
  unhit(h: WatchHit): void {
    const wp = this.byId.get(h.id);
    if (wp && wp.hits > 0) wp.hits--;
  }

  /**
   * Value-change check for write/access watchpoints; updates the shadows. `count` false: a hit is
   * already pending for this instruction (a reported access), so only the shadows are refreshed.
   */
  checkChanged(mem: DebugMemory, state: DebugCpuState, ctx: EvalContext, count = true, scratch = new Uint8Array(64)): WatchHit | undefined {
    let hit: WatchHit | undefined;
    for (const wp of this.enabled) {
      if (wp.spec.kind === 'read') continue;
      const now = scratch.length >= wp.spec.length ? scratch.subarray(0, wp.spec.length) : new Uint8Array(wp.spec.length);
      this.readInto(wp, mem, state, now);
      let first = -1;
      for (let i = 0; i < now.length; i++) {
        if (now[i] !== wp.shadow[i]) {
          first = i;
          break;
        }
      }
      if (first < 0) continue;
      wp.shadow.set(now);
      if (!count || hit || (wp.condition && !safeTrue(wp, ctx))) continue;
      wp.hits++;
      hit = { id: wp.id, kind: wp.spec.kind, address: (wp.spec.address + first) >>> 0 };
    }
    return hit;
  }

  /** The watched bytes now (`state` only for its paging registers); one walk per page. */
  private readInto(wp: Watchpoint, mem: DebugMemory, state: DebugCpuState, out: Uint8Array): void {
    const base = wp.spec.address;
    let page = -1;
    let frame = -1;
    for (let i = 0; i < out.length; i++) {
      const a = (base + i) >>> 0;
      if (wp.spec.physical) {
        out[i] = peekPhysical(mem, a);
        continue;
      }
      if (a >>> 12 !== page) {
        page = a >>> 12;
        const t = translate(mem, state, a);
        frame = t < 0 ? -1 : t - (a & 0xfff);
      }
      out[i] = frame < 0 ? 0 : peekPhysical(mem, frame + (a & 0xfff));
    }
  }

  private reindex(): void {
    this.enabled = [...this.byId.values()].filter((w) => w.enabled);
    this.valueWatched = this.enabled.some((w) => w.spec.kind !== 'read');
  }
}

function safeTrue(wp: Watchpoint, ctx: EvalContext): boolean {
  try {
    return wp.condition!(ctx) !== 0;
  } catch {
    return true; // an unevaluable condition stops, as for breakpoints
  }
}
