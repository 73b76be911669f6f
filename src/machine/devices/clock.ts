// Virtual time for devices: nanoseconds derived from retired instructions (32 ns each, QEMU's
// -icount shift=5) plus the time skipped while the CPU was halted. Never the wall clock.
export const NS_PER_INSTRUCTION = 32;

export interface VirtualClock {
  /** Current virtual time in nanoseconds (an integer). */
  nowNs(): number;
}

/** floor(a * b / c) for non-negative integers without losing precision above 2^53. */
export function mulDiv(a: number, b: number, c: number): number {
  const q = Math.floor(a / c);
  const r = a - q * c;
  return q * b + Math.floor((r * b) / c);
}
