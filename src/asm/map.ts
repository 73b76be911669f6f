// Lookups over the assembler's address↔source map, both ways, for the debugger and the editor.

import type { AsmMap, MapItem } from './types.ts';

/** The item (instruction or data) covering `address`, or undefined. Items are sorted by address. */
export function itemAt(map: AsmMap, address: number): MapItem | undefined {
  const items = map.items;
  let lo = 0;
  let hi = items.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const it = items[mid]!;
    if (address < it.address) hi = mid - 1;
    else if (address >= it.address + it.length) lo = mid + 1;
    else return it;
  }
  return undefined;
}

/** The code items a source line produced (several for a macro call or `times`), in address order. */
export function itemsForLine(map: AsmMap, file: string, line: number): MapItem[] {
  return map.items.filter((it) => it.file === file && it.line === line);
}

/** The first address of a source line's code, or undefined (for a breakpoint on that line). */
export function addressOfLine(map: AsmMap, file: string, line: number): number | undefined {
  const code = itemsForLine(map, file, line).filter((it) => it.kind === 'code');
  return code[0]?.address;
}

/** The address of a symbol, or undefined. */
export function symbolAddress(map: AsmMap, name: string): number | undefined {
  return map.symbols.find((s) => s.name === name)?.address;
}
