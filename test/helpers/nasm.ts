// Assembling fixture kernels with NASM (the oracle assembler) into a temporary directory.
// Errors carry nasm's own messages, so a broken fixture says which line is wrong.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const KERNELS_DIR = join(REPO_ROOT, 'fixtures', 'kernels');
export const BENCH_DIR = join(REPO_ROOT, 'fixtures', 'bench');

let scratch: string | undefined;
/** One temporary directory per process for all build products. */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'vizor-nasm-'));
  return scratch;
}

function run(cmd: string, args: string[], what: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile(cmd, args, { maxBuffer: 16 << 20 }, (err, _stdout, stderr) => {
      if (!err) return resolvePromise();
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        reject(new Error(`${cmd} is not installed: it is a test oracle (Debian package nasm)`));
      } else {
        reject(new Error(`${what} failed:\n${stderr.trim() || err.message}`));
      }
    });
  });
}

export interface AssembleOptions {
  format?: 'bin' | 'elf32';
  /** Directories searched by %include (the file's own directory and fixtures/kernels always are). */
  includeDirs?: string[];
  /** Also write a listing next to the output. */
  listing?: boolean;
  /** Output file name inside the scratch directory (default: the source name with .bin/.o). */
  outName?: string;
}

/** Assembles one file; returns the output path (and the listing path when asked). */
export async function assembleFile(source: string, opts: AssembleOptions = {}): Promise<{ out: string; listing?: string }> {
  const format = opts.format ?? 'bin';
  const stem = opts.outName ?? basename(source).replace(/\.asm$/, '') + (format === 'bin' ? '.bin' : '.o');
  const out = join(scratchDir(), stem);
  const includes = [dirname(source), KERNELS_DIR, ...(opts.includeDirs ?? [])].map((d) => `-i${d}/`);
  const args = ['-f', format, ...includes, '-o', out];
  let listing: string | undefined;
  if (opts.listing) {
    listing = out + '.lst';
    args.push('-l', listing);
  }
  args.push(source);
  await run('nasm', args, `nasm ${basename(source)}`);
  return { out, listing };
}

/** Assembles NASM source text (a temporary .asm file is written first); returns the bytes. */
export async function assembleSource(text: string, name = 'snippet', opts: AssembleOptions = {}): Promise<Uint8Array> {
  const src = join(scratchDir(), `${name}.asm`);
  writeFileSync(src, text);
  const { out } = await assembleFile(src, opts);
  return new Uint8Array(readFileSync(out));
}
