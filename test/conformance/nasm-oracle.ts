// Helpers for tests that compare vizor's assembler with NASM: run nasm once on a whole source
// (with a listing), and split both outputs into per-source-line bytes so a mismatch names its line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AssembleResult } from '../../src/asm/index.ts';

export interface NasmOutput {
  bytes: Uint8Array;
  /** Hex bytes per source line number (lines of the main file only). */
  perLine: Map<number, string>;
  stderr: string;
  ok: boolean;
}

/** Assembles `source` with `nasm -f bin` (extra files written next to it) and parses the listing. */
export function runNasm(source: string, files: Record<string, string | Uint8Array> = {}, args: string[] = []): NasmOutput {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-nasm-'));
  try {
    for (const [name, data] of Object.entries(files)) writeFileSync(join(dir, name), data);
    writeFileSync(join(dir, 'in.asm'), source);
    let stderr = '';
    let ok = true;
    try {
      execFileSync('nasm', ['-f', 'bin', '-o', 'out.bin', '-l', 'out.lst', ...args, 'in.asm'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 256 << 20 });
    } catch (e) {
      ok = false;
      stderr = String((e as { stderr?: Buffer }).stderr ?? e);
    }
    const bytes = ok ? new Uint8Array(readFileSync(join(dir, 'out.bin'))) : new Uint8Array(0);
    const perLine = ok ? parseListing(readFileSync(join(dir, 'out.lst'), 'utf8')) : new Map<number, string>();
    return { bytes, perLine, stderr, ok };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Per-line bytes from a `nasm -l` listing (top-level lines only; relocation brackets removed). */
export function parseListing(text: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const l of text.split('\n')) {
    const m = /^\s*(\d+) [0-9A-F]{8} ([0-9A-F()[\]]+)(-?)/.exec(l);
    if (!m) continue;
    if (l.slice(35, 40).includes('<')) continue; // macro expansion lines
    const n = Number(m[1]);
    out.set(n, (out.get(n) ?? '') + m[2]!.replace(/[()[\]]/g, ''));
  }
  return out;
}

/** Per-line bytes of vizor's output, from its map (line numbers of `file`). */
export function vizorPerLine(r: AssembleResult, file: string): Map<number, string> {
  const out = new Map<number, string>();
  const sections = new Map(r.map.sections.map((s) => [s.name, s]));
  for (const it of r.map.items) {
    if (it.file !== file || it.kind === 'reserve') continue;
    const s = sections.get(it.section);
    if (!s || s.nobits) continue;
    const off = s.fileOffset + (it.address - s.start);
    const hex = Buffer.from(r.bytes.subarray(off, off + it.length)).toString('hex').toUpperCase();
    out.set(it.line, (out.get(it.line) ?? '') + hex);
  }
  return out;
}

/**
 * The first place where vizor's image differs from NASM's, named by vizor's source line (through
 * its map), or null when the images are identical.
 */
export function firstMismatch(r: AssembleResult, theirs: Uint8Array, source: string): string | null {
  const ours = r.bytes;
  if (Buffer.from(ours).equals(Buffer.from(theirs))) return null;
  const lines = source.split('\n');
  const sections = new Map(r.map.sections.map((s) => [s.name, s]));
  const items = r.map.items
    .map((it) => ({ it, off: (sections.get(it.section)?.fileOffset ?? -1) + it.address - (sections.get(it.section)?.start ?? 0) }))
    .filter((x) => x.it.kind !== 'reserve' && !sections.get(x.it.section)?.nobits)
    .sort((a, b) => a.off - b.off);
  for (const { it, off } of items) {
    const a = Buffer.from(ours.subarray(off, off + it.length)).toString('hex');
    const b = Buffer.from(theirs.subarray(off, off + it.length)).toString('hex');
    if (a !== b) return `${it.file}:${it.line} '${(lines[it.line - 1] ?? '').trim()}' at file offset 0x${off.toString(16)}: nasm ${b}, vizor ${a}`;
  }
  return `images differ in length or padding: nasm ${theirs.length} bytes, vizor ${ours.length} bytes`;
}
