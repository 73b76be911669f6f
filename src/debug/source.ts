// The assembler's address↔source map as the debugger uses it: file:line → address for
// breakpoints, address → file:line for "where am I", and label values for conditions.
import type { AsmMap } from '../asm/index.ts';
import type { LineMapEntry } from './breakpoints.ts';

export interface SourceInfo {
  lineMap: LineMapEntry[];
  symbols: Map<string, number>;
}

/**
 * The sections whose addresses are not where the image puts them: assembled for a `vstart` other
 * than their place in the file (`section program follows=loader vstart=0x100`). The image's origin
 * is the first section's start minus its file offset; a section with another start-minus-offset is
 * run elsewhere (by a loader, in a segment of its own), so its addresses are offsets in CS.
 */
export function relocatedSections(map: Pick<AsmMap, 'sections'>): Set<string> {
  const placed = map.sections.filter((s) => !s.nobits && s.fileOffset >= 0 && s.length > 0);
  const out = new Set<string>();
  if (placed.length === 0) return out;
  const first = placed.reduce((a, b) => (b.fileOffset < a.fileOffset ? b : a));
  const origin = first.start - first.fileOffset;
  for (const s of placed) if (s.start - s.fileOffset !== origin) out.add(s.name);
  return out;
}

/** Code items and label symbols of an assembler map. */
export function sourceInfo(map: AsmMap): SourceInfo {
  const relocated = relocatedSections(map);
  const lineMap = map.items
    .filter((i) => i.kind === 'code')
    .map((i) => ({ address: i.address >>> 0, file: i.file, line: i.line, kind: i.kind, ...(relocated.has(i.section) ? { segmentRelative: true } : {}) }));
  const symbols = new Map<string, number>();
  for (const s of map.symbols) symbols.set(s.name, s.address >>> 0);
  return { lineMap, symbols };
}

/** The source line of the instruction at `address` (the item starting there), if any. */
export function lineAt(lineMap: readonly LineMapEntry[], address: number): { file: string; line: number } | undefined {
  for (const e of lineMap) if (e.address === address >>> 0) return { file: e.file, line: e.line };
  return undefined;
}
