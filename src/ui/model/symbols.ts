// Naming addresses for the views: "label+0x12" from the assembler's symbols.
import type { AsmMap } from '../../worker/protocol.ts';

export function symbolize(map: AsmMap | null, address: number): string | null {
  if (!map || map.symbols.length === 0) return null;
  let best: { name: string; address: number } | null = null;
  for (const s of map.symbols) if (s.address <= address && (!best || s.address > best.address)) best = s;
  if (!best || address - best.address > 0x10000) return null;
  const off = address - best.address;
  return off === 0 ? best.name : `${best.name}+0x${off.toString(16)}`;
}

/** True when the address is inside an instruction the assembler emitted (a plausible return address). */
export function isCodeAddress(map: AsmMap | null, address: number): boolean {
  return !!map?.lines.some((l) => l.code && address >= l.address && address < l.address + l.length);
}

/** The instruction that ends right at `address` (the CALL a return address comes back to). */
export function instructionEndingAt(map: AsmMap | null, address: number): { file: string; line: number } | null {
  const l = map?.lines.find((x) => x.code && x.address + x.length === address);
  return l ? { file: l.file, line: l.line } : null;
}
