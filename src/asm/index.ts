// The assembler's public entry point (NASM dialect, flat binary). Browser-safe: no Node APIs;
// %include and incbin files come through `options.provider`.

import { Assembler } from './assembler.ts';
import { formatListing } from './listing.ts';
import type { AssembleOptions, AssembleResult } from './types.ts';

export { addressOfLine, itemAt, itemsForLine, symbolAddress } from './map.ts';
export type { AsmMap, AssembleOptions, AssembleResult, Diagnostic, FileProvider, MapItem, MapSection, MapSymbol, Severity } from './types.ts';

/** Assembles `source`. Never throws: every problem is a diagnostic. */
export function assemble(source: string, options: AssembleOptions = {}): AssembleResult {
  const asm = new Assembler(options);
  try {
    asm.run(source);
  } catch (err) {
    // A bug in vizor, not in the program: still a diagnostic, never an exception.
    const message = err instanceof Error ? err.message : String(err);
    asm.diagnostics.push({ severity: 'error', file: options.fileName ?? 'input.asm', line: 1, column: 1, message: `internal assembler error: ${message}` });
  }
  const errors = asm.diagnostics.some((d) => d.severity === 'error');
  let map;
  try {
    map = asm.map();
  } catch {
    map = { symbols: [], sections: [], items: [] };
  }
  return {
    bytes: errors ? new Uint8Array(0) : asm.image,
    diagnostics: asm.diagnostics,
    listing: () => formatListing(asm.records),
    map,
  };
}
