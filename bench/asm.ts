// Assembler throughput: a generated 100,000-line NASM source (instructions of every common shape,
// labels with forward and backward jumps, data, macros, times), assembled by `vizor asm` and by
// `nasm -f bin` in the same run; whole-process wall time, median of a few runs each, and the ratio.
//   npx tsx bench/asm.ts [LINES] [RUNS]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const main = process.argv[1] !== undefined && new URL(import.meta.url).pathname === process.argv[1];
const lines = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 5);

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deterministic program of about `n` lines. */
export function generate(n: number, seed = 42, bits: 16 | 32 = 32): string {
  const r = prng(seed);
  const pick = <T>(a: T[]): T => a[Math.floor(r() * a.length)]!;
  const R32 = ['eax', 'ebx', 'ecx', 'edx', 'esi', 'edi', 'ebp'];
  const R16 = ['ax', 'bx', 'cx', 'dx', 'si', 'di'];
  const R8 = ['al', 'bl', 'cl', 'dl', 'ah', 'bh'];
  const ALU = ['add', 'sub', 'and', 'or', 'xor', 'cmp', 'adc', 'sbb'];
  const imm = () => pick(['1', '0x7f', '-5', '0x1234', '0x12345678', '200', 'CONST_A', 'CONST_B * 2', '(CONST_A + 3) << 2']);
  const mem = () => pick(['[ebx]', '[esi+8]', '[ebp-4]', '[eax+ecx*4]', '[edi+edx*2+0x100]', '[table]', '[table+ebx*4]', '[esp+12]', '[0x1000]']);
  const out: string[] = [`bits ${bits}`, bits === 16 ? 'org 0x7c00' : 'org 0x100000', 'CONST_A equ 17', 'CONST_B equ 0x300', '%macro PAIR 2', '  mov %1, %2', '  add %1, 1', '%endmacro', 'section .text'];
  let label = 0;
  while (out.length < n - 20) {
    const k = r();
    if (k < 0.05) out.push(`L${label++}:`);
    else if (k < 0.12) out.push(`  ${pick(['jmp', 'jz', 'jnz', 'jc', 'jg', 'jle'])} L${Math.max(0, label + Math.floor(r() * 6) - 3)}`);
    else if (k < 0.14) out.push(`  call L${Math.max(0, label + Math.floor(r() * 10) - 5)}`);
    else if (k < 0.34) out.push(`  ${pick(ALU)} ${pick(R32)}, ${pick([...R32, imm(), mem()])}`);
    else if (k < 0.42) out.push(`  ${pick(ALU)} ${pick(R16)}, ${pick([...R16, pick(['1', '-5', '0x1234', '200', 'CONST_B'])])}`);
    else if (k < 0.48) out.push(`  ${pick(ALU)} ${pick(R8)}, ${pick([...R8, '5', '0x80'])}`);
    else if (k < 0.6) out.push(`  mov ${pick(R32)}, ${pick([...R32, imm(), mem()])}`);
    else if (k < 0.66) out.push(`  mov ${mem()}, ${pick(R32)}`);
    else if (k < 0.7) out.push(`  mov dword ${mem()}, ${imm()}`);
    else if (k < 0.74) out.push(`  lea ${pick(R32)}, ${mem()}`);
    else if (k < 0.78) out.push(`  ${pick(['push', 'pop', 'inc', 'dec', 'neg', 'not'])} ${pick(R32)}`);
    else if (k < 0.81) out.push(`  ${pick(['shl', 'shr', 'sar', 'rol'])} ${pick(R32)}, ${pick(['1', '3', 'cl'])}`);
    else if (k < 0.84) out.push(`  ${pick(['movzx', 'movsx'])} ${pick(R32)}, ${pick(['bl', 'cx', 'byte [esi]', 'word [edi+2]'])}`);
    else if (k < 0.86) out.push(`  ${pick(['rep movsd', 'rep stosb', 'cld', 'pushad', 'popad', 'nop', 'cdq', 'ret', 'iretd', 'cli', 'sti'])}`);
    else if (k < 0.88) out.push(`  PAIR ${pick(R32)}, ${imm()}`);
    else if (k < 0.9) out.push(`  imul ${pick(R32)}, ${pick(R32)}, ${imm()}`);
    else if (k < 0.93) out.push(`  db ${pick(['1, 2, 3', '"text", 0', "'x'", '0x90'])}`);
    else if (k < 0.96) out.push(`  dd ${pick(['L0', 'table', '0x12345678', 'CONST_A * 4', '$ - $$'])}`);
    else if (k < 0.97) out.push(`  times ${1 + Math.floor(r() * 8)} db 0`);
    else if (k < 0.98) out.push(`  align ${pick(['4', '8', '16'])}`);
    else out.push(`  ${pick(['in al, 0x60', 'out 0x80, al', 'in eax, dx', 'out dx, al', 'int 0x30', 'hlt'])}`);
  }
  for (let i = 0; i < label + 10; i++) if (i >= label) out.push(`L${i}:`);
  out.push('section .data', 'align 4', 'table: times 64 dd 0x11223344', 'section .bss', 'buf: resb 4096', '');
  return out.join('\n');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(cmd: string, args: string[]): number {
  const t = performance.now();
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: root, maxBuffer: 64 << 20 });
  return performance.now() - t;
}

function bench(): void {
const dir = mkdtempSync(join(tmpdir(), 'vizor-bench-asm-'));
try {
  const src = join(dir, 'big.asm');
  const text = generate(lines);
  writeFileSync(src, text);
  const nasmOut = join(dir, 'nasm.bin');
  const vizorOut = join(dir, 'vizor.bin');
  const nasmTimes: number[] = [];
  const vizorTimes: number[] = [];
  for (let i = 0; i < runs; i++) {
    nasmTimes.push(time('nasm', ['-f', 'bin', '-o', nasmOut, src]));
    vizorTimes.push(time(process.execPath, [join(root, 'bin', 'vizor.mjs'), 'asm', src, '-o', vizorOut]));
  }
  const same = readFileSync(nasmOut).equals(readFileSync(vizorOut));
  const n = median(nasmTimes);
  const v = median(vizorTimes);
  const size = readFileSync(nasmOut).length;
  console.log(`bench/asm: ${text.split('\n').length} lines, ${(text.length / 1e6).toFixed(2)} MB source, ${size} bytes output, outputs identical: ${same ? 'yes' : 'NO'}`);
  console.log(`  nasm -f bin : ${n.toFixed(0)} ms (median of ${runs}: ${nasmTimes.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  vizor asm   : ${v.toFixed(0)} ms (median of ${runs}: ${vizorTimes.map((x) => x.toFixed(0)).join(' ')})`);
  console.log(`  ratio vizor/nasm: ${(v / n).toFixed(2)} (${v <= n ? 'vizor is no slower' : 'vizor is slower'}); vizor ${((lines / v) * 1000).toFixed(0)} lines/s`);
  if (!same) process.exitCode = 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
}

if (main) bench();
