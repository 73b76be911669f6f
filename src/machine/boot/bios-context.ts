// What the built-in BIOS services touch: memory, a few devices and the caller's registers.
import type { CpuStateLike } from './realmode.ts';

export interface BiosMemory {
  readonly size: number;
  read8(p: number): number; read16(p: number): number; read32(p: number): number;
  write8(p: number, v: number): void; write16(p: number, v: number): void; write32(p: number, v: number): void;
  writeBytes(p: number, bytes: Uint8Array): void;
  readBytes(p: number, length: number): Uint8Array;
}

export const BDA = 0x400;
export const FLAG_CF = 0x1, FLAG_ZF = 0x40;

/** Linear address of the FLAGS image the INT pushed (IP, CS, FLAGS at SS:SP): IRET restores it. */
export function stackedFlagsAddr(st: CpuStateLike): number {
  return (st.ss.base + ((st.esp + 4) & 0xffff)) >>> 0;
}

export function setStackedFlag(mem: BiosMemory, st: CpuStateLike, flag: number, on: boolean): void {
  const a = stackedFlagsAddr(st);
  const f = mem.read16(a);
  mem.write16(a, on ? f | flag : f & ~flag);
}

/** Carry in the returned flags: the BIOS convention for "error" (with the status in AH). */
export function setCarry(mem: BiosMemory, st: CpuStateLike, on: boolean): void {
  setStackedFlag(mem, st, FLAG_CF, on);
}
