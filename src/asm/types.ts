// Public types of the assembler: what callers pass in and what they get back.
// Kept free of Node APIs so the assembler runs unchanged in a browser worker.

/** Supplies the files named by %include and incbin. Text files as string, binary as bytes. */
export interface FileProvider {
  read(path: string): string | Uint8Array | undefined;
}

export type Severity = 'error' | 'warning';

/** One message for the student; line and column are 1-based. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  line: number;
  column: number;
  message: string;
}

export interface AssembleOptions {
  fileName?: string;
  provider?: FileProvider;
  /** Like `nasm -DNAME=VALUE`: name → value text ('' for a bare define). */
  defines?: Record<string, string>;
}

export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export interface MapSymbol {
  name: string;
  address: number;
  section: string;
  /** 'label' for addresses, 'equ' for constants. */
  kind: 'label' | 'equ';
}

export interface MapSection {
  name: string;
  /** Virtual (runtime) start address. */
  start: number;
  /** Offset of the section's bytes in the output file (-1 for nobits). */
  fileOffset: number;
  length: number;
  nobits: boolean;
}

export interface MapItem extends SourceLocation {
  address: number;
  length: number;
  /** 'code' for instructions, 'data' for db/dw/times/incbin/align..., 'reserve' for resb. */
  kind: 'code' | 'data' | 'reserve';
  section: string;
}

/** The address↔source map the debugger and the editor use. Items are sorted by address. */
export interface AsmMap {
  symbols: MapSymbol[];
  sections: MapSection[];
  items: MapItem[];
}

export interface AssembleResult {
  bytes: Uint8Array;
  diagnostics: Diagnostic[];
  /** Text like `nasm -l`. */
  listing(): string;
  map: AsmMap;
}
