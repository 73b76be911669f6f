// Source text as the preprocessor sees it: physical lines joined at trailing backslashes, files
// found through the caller's FileProvider, and the re-formed text NASM's listing shows for lines
// that came out of a macro.

import { commentStart } from './textutil.ts';
import type { FileProvider, Severity } from './types.ts';

/** One logical source line and where it is. */
export interface RawLine {
  text: string;
  file: string;
  line: number;
}

export type Report = (severity: Severity, file: string, line: number, column: number, message: string) => void;

/** Splits source into logical lines: `\` at the end of a line continues it on the next. */
export function splitLines(source: string, file: string): RawLine[] {
  const phys = source.split(/\r\n|\n|\r/);
  const out: RawLine[] = [];
  for (let i = 0; i < phys.length; i++) {
    let text = phys[i]!;
    const line = i + 1;
    while (text.endsWith('\\') && i + 1 < phys.length) text = text.slice(0, -1) + phys[++i]!;
    out.push({ text, file, line });
  }
  if (out.length > 0 && out[out.length - 1]!.text === '' && source.length > 0) out.pop();
  return out;
}

/** NASM lists expanded lines as its preprocessor re-forms them: comment gone, indent one space. */
export function listForm(text: string): string {
  const t = text.slice(0, commentStart(text)).trimEnd();
  let out = '';
  let q = '';
  for (let i = 0; i < t.length; i++) {
    const c = t[i]!;
    if (q) {
      if (c === q) q = '';
    } else if (c === '"' || c === "'" || c === '`') q = c;
    else if (c === ' ' || c === '\t') {
      while (t[i + 1] === ' ' || t[i + 1] === '\t') i++;
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

function dirOf(path: string): string {
  const k = path.lastIndexOf('/');
  return k < 0 ? '' : path.slice(0, k + 1);
}

/**
 * Reads a file named in `from` (%include, incbin) through the provider: the name as written, then
 * relative to the including file's folder. A provider that throws counts as "not found".
 */
export function resolveFile(provider: FileProvider | undefined, name: string, from: string): { path: string; data: string | Uint8Array } | undefined {
  if (!provider) return undefined;
  for (const path of [name, dirOf(from) + name]) {
    let data: string | Uint8Array | undefined;
    try {
      data = provider.read(path);
    } catch {
      data = undefined;
    }
    if (data !== undefined) return { path, data };
  }
  return undefined;
}
