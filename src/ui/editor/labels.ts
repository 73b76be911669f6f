// Go to definition for labels, constants and macros, by reading the sources (so it works while
// the program has errors and the assembler's map is stale). NASM rules: `.name` is local to the
// last global label above it.
import type { SourceFile } from '../../worker/protocol.ts';

export interface Location {
  file: string;
  line: number; // 1-based
  column: number; // 1-based
}

const LABEL = /^\s*([A-Za-z_?$@.][\w$#@~.?]*)\s*:/;
const EQU = /^\s*([A-Za-z_?$@][\w$#@~.?]*)\s+equ\b/i;
const DEFINE = /^\s*%(?:x?i?define|assign|macro)\s+([A-Za-z_?$@][\w$#@~.?]*)/i;
const BARE_LABEL_DATA = /^\s*([A-Za-z_?$@][\w$#@~.?]*)\s+(?:db|dw|dd|dq|resb|resw|resd|resq|times)\b/i;

function definedName(line: string): string | null {
  const m = LABEL.exec(line) ?? EQU.exec(line) ?? DEFINE.exec(line) ?? BARE_LABEL_DATA.exec(line);
  return m ? m[1] : null;
}

/** The global label a `.local` name on `line` belongs to (the last non-local label above it). */
function enclosingGlobal(lines: string[], line: number): string | null {
  for (let i = line - 1; i >= 0; i--) {
    const m = LABEL.exec(lines[i]);
    if (m && !m[1].startsWith('.')) return m[1];
  }
  return null;
}

export function findDefinition(files: SourceFile[], fromFile: string, fromLine: number, word: string): Location | null {
  let target = word;
  if (word.startsWith('.') && !word.startsWith('..')) {
    const src = files.find((f) => f.name === fromFile);
    const owner = src ? enclosingGlobal(src.text.split('\n'), fromLine - 1) : null;
    if (owner) target = owner + word;
  }
  // Search the current file first, then the others (an %include'd file defines names too).
  const ordered = [...files].sort((a, b) => (a.name === fromFile ? -1 : b.name === fromFile ? 1 : 0));
  for (const f of ordered) {
    const lines = f.text.split('\n');
    let global: string | null = null;
    for (let i = 0; i < lines.length; i++) {
      const name = definedName(lines[i]);
      if (!name) continue;
      const full = name.startsWith('.') && !name.startsWith('..') && global ? global + name : name;
      if (!name.startsWith('.')) global = name;
      if (full === target || (name === word && !word.startsWith('.'))) {
        return { file: f.name, line: i + 1, column: lines[i].indexOf(name) + 1 };
      }
    }
  }
  return null;
}
