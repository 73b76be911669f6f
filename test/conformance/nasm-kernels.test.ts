// Every fixture kernel, benchmark kernel and lesson kernel in the repo, assembled by vizor, must
// equal NASM's output byte for byte. Iterates whatever .asm files exist (with their %includes).
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';

const root = join(dirname(new URL(import.meta.url).pathname), '..', '..');
const out = mkdtempSync(join(tmpdir(), 'vizor-kernels-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

function asmFiles(dir: string, recursive: boolean): string[] {
  if (!existsSync(dir)) return [];
  const names = readdirSync(dir, { recursive }) as string[];
  return names.filter((n) => n.endsWith('.asm')).map((n) => join(dir, n)).filter((p) => statSync(p).isFile());
}

const kernels = [
  ...asmFiles(join(root, 'fixtures', 'kernels'), false),
  ...asmFiles(join(root, 'fixtures', 'bench'), false),
  ...asmFiles(join(root, 'fixtures', 'migration'), false),
  ...asmFiles(join(root, 'fixtures', 'hv'), false),
  ...asmFiles(join(root, 'lessons'), true),
];

// Kernels elsewhere share fixtures/kernels/lib: both assemblers get it as an include path (nasm -i).
const includeDir = join(root, 'fixtures', 'kernels');

function vizor(path: string): { bytes: Uint8Array; errors: string[]; listing: string } {
  const dir = dirname(path);
  const provider = {
    read: (p: string) => {
      for (const q of p.startsWith('/') ? [p] : [join(dir, p), join(includeDir, p)]) {
        if (existsSync(q) && statSync(q).isFile()) return new Uint8Array(readFileSync(q));
      }
      return undefined;
    },
  };
  const r = assemble(readFileSync(path, 'utf8'), { fileName: relative(dir, path), provider });
  return { bytes: r.bytes, errors: r.diagnostics.filter((d) => d.severity === 'error').map((d) => `${d.file}:${d.line}:${d.column}: ${d.message}`), listing: r.listing() };
}

function nasm(path: string): { bytes: Uint8Array; listing: string } {
  const bin = join(out, relative(root, path).replace(/[/\\]/g, '_') + '.bin');
  const lst = bin.replace(/\.bin$/, '.lst');
  execFileSync('nasm', ['-f', 'bin', '-i', includeDir + '/', '-o', bin, '-l', lst, relative(dirname(path), path)], { cwd: dirname(path), stdio: ['ignore', 'pipe', 'pipe'] });
  return { bytes: new Uint8Array(readFileSync(bin)), listing: readFileSync(lst, 'utf8') };
}

/** Listing lines without NASM's warning lines (vizor words its warnings differently). */
const listingLines = (text: string) => text.split('\n').filter((l) => !l.includes('******************'));

describe.concurrent('fixture and lesson kernels: vizor asm = nasm', () => {
  it('finds kernels to check', () => {
    expect(kernels.length).toBeGreaterThan(5);
  });
  for (const path of kernels) {
    it(relative(root, path), () => {
      const { bytes: theirs, listing } = nasm(path);
      const ours = vizor(path);
      expect(ours.errors).toEqual([]);
      let first = -1;
      for (let i = 0; i < Math.max(theirs.length, ours.bytes.length); i++) {
        if (theirs[i] !== ours.bytes[i]) {
          first = i;
          break;
        }
      }
      expect({ length: ours.bytes.length, firstDifference: first }).toEqual({ length: theirs.length, firstDifference: -1 });
      // and the listing is nasm -l's, line for line
      const a = listingLines(ours.listing);
      const b = listingLines(listing);
      const firstLine = a.findIndex((l, i) => l !== b[i]);
      expect(firstLine < 0 ? null : { vizor: a[firstLine], nasm: b[firstLine] }).toBeNull();
      expect(a.length).toBe(b.length);
    });
  }
});
