// Seeded generator of hostile assembler inputs for the fuzz test (test/unit/asm-fuzz.test.ts) and the
// long run (bench/fuzz-asm.ts): random token soup, and mutations (deletions, insertions of risky
// tokens, duplicated/swapped/truncated lines) of real programs: fixture kernels and the corpus.
// Also the property every case must satisfy. No Node APIs: seeds are passed in as text.
import { assemble, type FileProvider } from '../../src/asm/index.ts';

export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TOKENS = [
  'mov', 'add', 'jmp', 'jz', 'call', 'push', 'pop', 'lea', 'int', 'ret', 'times', 'db', 'dw', 'dd', 'dq', 'resb', 'equ',
  'align', 'alignb', 'org', 'bits 16', 'bits 32', 'bits 64', 'section .data', 'section .bss', 'section .x vstart=0x100',
  'incbin "f.bin"', '%include "inc.asm"', '%include "self.asm"', '%macro m 1', '%macro m 1-*', '%endmacro', '%rep 3', '%endrep', '%exitrep',
  '%if 1', '%if x', '%elif 0', '%else', '%endif', '%ifdef A', '%define A 1', '%define F(x) x*2', '%assign n n+1', '%undef A',
  '%error boom', '%warning w', '%rotate 1', '%1', '%0', '%%l', '%[n]', '$', '$$', '[', ']', '(', ')', ',', ':', '+', '-', '*', '/', '//',
  '%', '<<', '>>', '~', '!', '&&', '||', '^^', '?', '0x', '0x7fffffff', '0xffffffffffffffff', '-1', '128', '1.5', "'", '"', '`', "'ab'",
  'ax', 'eax', 'al', 'es', 'cs', 'cr0', 'dr7', 'bx+si', 'ebp*2', 'esp', 'byte', 'word', 'dword', 'short', 'near', 'far', 'strict',
  'lock', 'rep', 'o16', 'a32', 'label:', '.local:', '..@x:', 'F(', 'm', '\\', ';', '\t', '\n', '{', '}', 'struc s', 'endstruc',
];

function pick<T>(r: () => number, a: readonly T[]): T {
  return a[Math.floor(r() * a.length)]!;
}

function randomSource(r: () => number): string {
  const lines: string[] = [];
  const n = 1 + Math.floor(r() * 30);
  for (let i = 0; i < n; i++) {
    const k = Math.floor(r() * 8);
    const parts: string[] = [];
    for (let j = 0; j < k; j++) parts.push(pick(r, TOKENS));
    lines.push(parts.join(r() < 0.7 ? ' ' : ''));
  }
  return lines.join('\n');
}

function mutate(r: () => number, src: string): string {
  let s = src;
  const rounds = 1 + Math.floor(r() * 6);
  for (let i = 0; i < rounds; i++) {
    const at = Math.floor(r() * (s.length + 1));
    switch (Math.floor(r() * 7)) {
      case 0: s = s.slice(0, at) + s.slice(at + Math.floor(r() * 40)); break;
      case 1: s = s.slice(0, at) + pick(r, TOKENS) + s.slice(at); break;
      case 2: s = s.slice(0, at) + ' ' + pick(r, TOKENS) + ' ' + s.slice(at); break;
      case 3: {
        const lines = s.split('\n');
        const a = Math.floor(r() * lines.length);
        lines.splice(Math.floor(r() * lines.length), 0, lines[a]!);
        s = lines.join('\n');
        break;
      }
      case 4: {
        const lines = s.split('\n');
        const a = Math.floor(r() * lines.length);
        const b = Math.floor(r() * lines.length);
        [lines[a], lines[b]] = [lines[b]!, lines[a]!];
        s = lines.join('\n');
        break;
      }
      case 5: s = s.slice(0, at); break;
      default: s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 256)) + s.slice(at);
    }
  }
  return s;
}

const splitCache = new Map<string, string[]>();

/** Source number `i` of the stream for `seed`: a mutation of a seed program, or random tokens. */
export function fuzzCase(seed: number, i: number, seeds: string[]): string {
  const r = prng(seed * 1_000_003 + i);
  if (seeds.length > 0 && r() < 0.7) {
    const base = pick(r, seeds);
    // work on a window of a long program, so each case stays small and fast
    let lines = splitCache.get(base);
    if (!lines) splitCache.set(base, (lines = base.split('\n')));
    const start = Math.floor(r() * Math.max(1, lines.length - 60));
    return mutate(r, lines.slice(start, start + 20 + Math.floor(r() * 60)).join('\n'));
  }
  return randomSource(r);
}

export const FUZZ_FILES: Record<string, string | Uint8Array> = {
  'f.bin': new Uint8Array([1, 2, 3]),
  'inc.asm': 'db 1\n%include "inc2.asm"\n',
  'inc2.asm': '%include "inc.asm"\n',
  'self.asm': '%include "self.asm"\n',
};
export const fuzzProvider: FileProvider = { read: (p) => FUZZ_FILES[p] };

/** Checks the property on one source; returns a description of the failure or null. */
export function checkCase(source: string): string | null {
  let r;
  try {
    r = assemble(source, { fileName: 'fuzz.asm', provider: fuzzProvider });
  } catch (e) {
    return `threw: ${e instanceof Error ? e.stack : String(e)}`;
  }
  if (!(r.bytes instanceof Uint8Array)) return 'bytes is not a Uint8Array';
  const internal = r.diagnostics.find((d) => d.message.startsWith('internal assembler error'));
  if (internal) return internal.message;
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0 && r.bytes.length > 0) return 'errors reported but bytes returned';
  for (const d of r.diagnostics) {
    if (!(d.line >= 1 && d.column >= 1) || !d.message) return `malformed diagnostic ${JSON.stringify(d)}`;
  }
  try {
    r.listing();
  } catch (e) {
    return `listing() threw: ${String(e)}`;
  }
  return null;
}
