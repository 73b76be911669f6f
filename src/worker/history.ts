// Checkpoints for reverse execution: machine snapshots taken every `interval` instructions.
// Going back to instruction N = restore the last checkpoint at or before N, then replay forward
// (the machine is deterministic). The list is thinned (every other old checkpoint dropped) when it
// grows past its budget, so a long run keeps dense recent history and sparse old history.

export interface Checkpoint {
  instructions: number;
  machine: unknown;
  /** Emitter sequence number at the checkpoint, so replayed events get the same numbers. */
  seq: number;
  /** Lengths of the output/input logs at the checkpoint. */
  serialChunks: number;
  inputsConsumed: number;
}

export class History {
  private points: Checkpoint[] = [];

  constructor(
    readonly interval = 250_000,
    readonly maxPoints = 32,
  ) {}

  clear(): void {
    this.points = [];
  }

  get size(): number {
    return this.points.length;
  }

  get first(): Checkpoint | null {
    return this.points[0] ?? null;
  }

  /** True when a checkpoint is due at this instruction count. */
  due(instructions: number): boolean {
    const last = this.points[this.points.length - 1];
    return !last || instructions - last.instructions >= this.interval;
  }

  add(cp: Checkpoint): void {
    const last = this.points[this.points.length - 1];
    if (last && last.instructions >= cp.instructions) return;
    this.points.push(cp);
    if (this.points.length > this.maxPoints) this.thin();
  }

  atOrBefore(instructions: number): Checkpoint | null {
    for (let i = this.points.length - 1; i >= 0; i--) if (this.points[i].instructions <= instructions) return this.points[i];
    return null;
  }

  /** Checkpoints strictly before the given count, newest first. */
  before(instructions: number): Checkpoint[] {
    return this.points.filter((p) => p.instructions < instructions).reverse();
  }

  /** Forget the future after `instructions` (the user changed the machine: it may differ now). */
  dropAfter(instructions: number): void {
    this.points = this.points.filter((p) => p.instructions <= instructions);
  }

  private thin(): void {
    // Keep the first (the load point) and the newest half; drop every other one in the old half.
    const half = Math.floor(this.points.length / 2);
    const old = this.points.slice(1, half).filter((_, i) => i % 2 === 1);
    this.points = [this.points[0], ...old, ...this.points.slice(half)];
  }
}
