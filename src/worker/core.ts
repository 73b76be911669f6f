// The worker's view of the core: the machine, the assembler, the disassembler and the debugger
// engine, behind one small interface (so tests can build a host with the real core, and the host
// never depends on a core module's exact export names).
import { Machine, type BootMode } from '../machine/machine.ts';
import { assemble as nasmAssemble } from '../asm/index.ts';
import { disassembleOne } from '../x86/disasm.ts';
import { relocatedSections } from '../debug/source.ts';
import type { Emitter } from '../trace/emitter.ts';
import type { AsmMap, CoreStatus, Diagnostic, SourceFile } from './protocol.ts';

export interface MachineOptions {
  memoryBytes: number;
  emitter: Emitter;
  serialInput: () => number | undefined;
}

export interface Assembled {
  bytes: Uint8Array | null;
  diagnostics: Diagnostic[];
  map: AsmMap | null;
}

export interface Decoded {
  length: number;
  text: string;
}

export interface Core {
  status: CoreStatus;
  createMachine(opts: MachineOptions): Machine;
  assemble(files: SourceFile[], main: string): Assembled;
  /** Decodes one instruction at bytes[0] (address = its offset in CS, for relative targets). */
  decode(bytes: Uint8Array, address: number, bits: 16 | 32): Decoded | null;
}

export type { Machine, BootMode };

/**
 * An include path as a project file name: "./a.inc" → "a.inc", and a lesson's "../_lib/mb.inc"
 * → "_lib/mb.inc" (the project is the lesson folder, with the shared _lib beside it).
 */
export function projectPath(path: string): string {
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') out.pop();
    else out.push(part);
  }
  return out.join('/');
}

function assembleFiles(files: SourceFile[], main: string): Assembled {
  const byName = new Map(files.map((f) => [f.name, f.text]));
  const source = byName.get(main);
  if (source === undefined) {
    return { bytes: null, map: null, diagnostics: [{ file: main, line: 1, column: 1, severity: 'error', message: `there is no file named ${main} in the project` }] };
  }
  const r = nasmAssemble(source, { fileName: main, provider: { read: (p) => byName.get(p) ?? byName.get(projectPath(p)) } });
  // Names as the project knows them ("../_lib/mb.inc" is the project's "_lib/mb.inc").
  const nameOf = (f: string) => (byName.has(f) ? f : byName.has(projectPath(f)) ? projectPath(f) : f);
  const diagnostics: Diagnostic[] = r.diagnostics.map((d) => ({ file: nameOf(d.file), line: d.line, column: d.column, severity: d.severity, message: d.message }));
  const ok = !diagnostics.some((d) => d.severity === 'error');
  const relocated = relocatedSections(r.map);
  const map: AsmMap = {
    symbols: r.map.symbols.filter((s) => s.kind === 'label').map((s) => ({ name: s.name, address: s.address >>> 0 })),
    lines: r.map.items
      .filter((i) => i.kind !== 'reserve')
      .map((i) => ({ address: i.address >>> 0, length: i.length, file: nameOf(i.file), line: i.line, code: i.kind === 'code', ...(relocated.has(i.section) ? { segmentRelative: true } : {}) })),
  };
  return { bytes: ok ? r.bytes : null, diagnostics, map };
}

export function realCore(): Core {
  return {
    status: { machine: true, assembler: true, disassembler: true, debugger: true, traceCodec: true, missing: [] },
    createMachine: (o) => new Machine({ memoryBytes: o.memoryBytes, emitter: o.emitter, serialInput: o.serialInput, interactive: true }),
    assemble: assembleFiles,
    decode(bytes, address, bits) {
      try {
        return disassembleOne(bytes, 0, bits, address);
      } catch {
        return null;
      }
    },
  };
}
