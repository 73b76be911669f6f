// The assembler's address↔source map as the debugger uses it: file:line → address for
// breakpoints, address → file:line for "where am I", and label values for conditions.
import type { AsmMap } from '../asm/index.ts';
import type { LineMapEntry } from './breakpoints.ts';

export interface SourceInfo {
  lineMap: LineMapEntry[];
  symbols: Map<string, number>;
}

/** Code items and label symbols of an assembler map. */
export function sourceInfo(map: AsmMap): SourceInfo {
  const lineMap = map.items.filter((i) => i.kind === 'code').map((i) => ({ address: i.address >>> 0, file: i.file, line: i.line, kind: i.kind }));
  const symbols = new Map<string, number>();
  for (const s of map.symbols) symbols.set(s.name, s.address >>> 0);
  return { lineMap, symbols };
}

/** The source line of the instruction at `address` (the item starting there), if any. */
export function lineAt(lineMap: readonly LineMapEntry[], address: number): { file: string; line: number } | undefined {
  for (const e of lineMap) if (e.address === address >>> 0) return { file: e.file, line: e.line };
  return undefined;
}
