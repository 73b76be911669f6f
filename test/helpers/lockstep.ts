// Lockstep comparison of two per-instruction register traces: QEMU's -singlestep log and vizor's
// --trace-cpu. Both are the state before each instruction. Alignment rules (QEMU-NOTES.md):
//  - consecutive records at one EIP collapse into the first (QEMU logs REP once per iteration,
//    and host-timer ticks can repeat a record);
//  - one record on either side may be skipped when the other side's next record matches it
//    exactly (QEMU logs an interrupted instruction before the handler and again after IRET; a
//    code-fetch page fault is logged by one side only), counted and reported;
//  - arithmetic flags an instruction leaves undefined are masked until an instruction defines
//    them again (flag-effects.ts); and since PUSHF/interrupts save such flags in memory, a
//    difference right after POPF/IRET/SAHF in flags that were undefined earlier in the run is
//    taken as that saved value coming back (masked again, not a divergence).
import { execFileSync } from 'node:child_process';
import { ARITH_FLAGS, flagEffect } from './flag-effects.ts';
import { RECORD_FIELDS, formatRecord, type CpuRecord } from './qemu-log.ts';

export interface CodeImage {
  bytes: Uint8Array;
  /** Linear address of bytes[0]. */
  base: number;
}

export interface LockstepOptions {
  /** Compare at most this many (collapsed) records. */
  limit?: number;
  /** Most records that may be skipped to realign (default 32). */
  maxSkips?: number;
  /** Only records with EIP in [lo, hi] take part (QEMU's -dfilter range). */
  range?: [number, number];
}

export interface LockstepResult {
  ok: boolean;
  compared: number;
  skippedQemu: number;
  skippedVizor: number;
  /** A multi-line explanation of the first divergence (empty when ok). */
  message: string;
}

/** Drops records outside the range and collapses runs at one EIP into their first record. */
export function collapse(records: CpuRecord[], range: [number, number]): CpuRecord[] {
  const out: CpuRecord[] = [];
  for (const r of records) {
    if (r.eip < range[0] || r.eip > range[1]) continue;
    if (out.length > 0 && out[out.length - 1].eip === r.eip) continue;
    out.push(r);
  }
  return out;
}

/** The first field that differs, flags compared outside `taint`; null when equal. */
export function firstDifference(q: CpuRecord, v: CpuRecord, taint: number): string | null {
  for (const f of RECORD_FIELDS) {
    const a = q[f] >>> 0;
    const b = v[f] >>> 0;
    if (f === 'eflags' ? ((a ^ b) & ~taint) !== 0 : a !== b) return f;
  }
  return null;
}

const hex = (v: number): string => '0x' + (v >>> 0).toString(16).padStart(8, '0');

/** POPF, IRET or SAHF at EIP: flags come back from memory or AH. */
function restoresFlags(code: CodeImage, eip: number): boolean {
  let off = eip - code.base;
  while (off >= 0 && off < code.bytes.length && (code.bytes[off] === 0x66 || code.bytes[off] === 0x67)) off++;
  if (off < 0 || off >= code.bytes.length) return false;
  const op = code.bytes[off];
  return op === 0x9d || op === 0xcf || op === 0x9e;
}

/** The instruction at EIP as ndisasm shows it (32-bit code), or its bytes if that fails. */
function instructionAt(code: CodeImage, eip: number): string {
  const off = eip - code.base;
  if (off < 0 || off >= code.bytes.length) return '(outside the image)';
  const bytes = code.bytes.subarray(off, off + 16);
  try {
    const text = execFileSync('ndisasm', ['-b', '32', '-o', String(eip), '-'], { input: bytes, encoding: 'utf8' });
    const first = text.split('\n')[0].trim().split(/\s+/);
    return `${first[1]}  ${first.slice(2).join(' ')}`;
  } catch {
    return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
  }
}

/** vizor's own instruction number when its trace carries one. */
function nOf(r: CpuRecord, fallback: number): number {
  const n = (r as CpuRecord & { n?: number }).n;
  return typeof n === 'number' ? n : fallback;
}

export function compareLockstep(qemuAll: CpuRecord[], vizorAll: CpuRecord[], code: CodeImage, opts: LockstepOptions = {}): LockstepResult {
  const range = opts.range ?? [0x100000, 0x200000];
  const q = collapse(qemuAll, range);
  const v = collapse(vizorAll, range);
  const limit = opts.limit ?? Infinity;
  const maxSkips = opts.maxSkips ?? 32;
  let i = 0;
  let j = 0;
  let compared = 0;
  let skippedQemu = 0;
  let skippedVizor = 0;
  let taint = 0;
  let everUndefined = 0;
  while (i < q.length && j < v.length && compared < limit) {
    let diff = firstDifference(q[i], v[j], taint);
    if (diff === 'eflags' && i > 0 && restoresFlags(code, q[i - 1].eip)) {
      const bits = (q[i].eflags ^ v[j].eflags) >>> 0;
      if ((bits & ~(everUndefined & ARITH_FLAGS)) === 0) {
        taint |= bits;
        diff = firstDifference(q[i], v[j], taint);
      }
    }
    if (diff !== null && skippedQemu + skippedVizor < maxSkips) {
      if (i + 1 < q.length && firstDifference(q[i + 1], v[j], taint) === null) {
        i++;
        skippedQemu++;
        diff = null;
      } else if (j + 1 < v.length && firstDifference(q[i], v[j + 1], taint) === null) {
        j++;
        skippedVizor++;
        diff = null;
      }
    }
    if (diff !== null) {
      return { ok: false, compared, skippedQemu, skippedVizor, message: explain(q, v, i, j, diff, taint, code) };
    }
    const off = q[i].eip - code.base;
    if (off >= 0 && off < code.bytes.length) {
      const e = flagEffect(code.bytes, off);
      taint = (taint & ~e.defines) | e.undefines;
      everUndefined |= e.undefines;
    }
    i++;
    j++;
    compared++;
  }
  if (compared < limit && (i < q.length) !== (j < v.length)) {
    const longer = i < q.length ? 'QEMU' : 'vizor';
    const next = i < q.length ? q[i] : v[j];
    return {
      ok: false, compared, skippedQemu, skippedVizor,
      message: `after ${compared} matching instructions ${longer === 'QEMU' ? 'vizor' : 'QEMU'}'s trace ends but ${longer}'s goes on with\n  ${formatRecord(next)}`,
    };
  }
  return { ok: true, compared, skippedQemu, skippedVizor, message: '' };
}

function explain(q: CpuRecord[], v: CpuRecord[], i: number, j: number, field: string, taint: number, code: CodeImage): string {
  const a = q[i];
  const b = v[j];
  const prev = i > 0 ? q[i - 1] : undefined;
  const lines = [
    `lockstep divergence at vizor instruction n=${nOf(b, j)} (compared record #${j}, QEMU record #${i}), EIP ${hex(b.eip)}` +
      (a.eip !== b.eip ? ` (QEMU is at ${hex(a.eip)})` : ''),
    `  register ${field}: QEMU ${hex(a[field as keyof CpuRecord])}, vizor ${hex(b[field as keyof CpuRecord])}` +
      (field === 'eflags' ? ` (differing bits ${hex((a.eflags ^ b.eflags) & ~taint)}, masked as undefined ${hex(taint)})` : ''),
    prev
      ? `  the instruction just executed: EIP ${hex(prev.eip)}  ${instructionAt(code, prev.eip)}`
      : '  (the very first record: the state the loader left)',
    `  the instruction about to run:  EIP ${hex(b.eip)}  ${instructionAt(code, b.eip)}`,
    '  previous records (QEMU = vizor up to here):',
    ...q.slice(Math.max(0, i - 4), i).map((r) => `    ${formatRecord(r)}`),
    '  QEMU : ' + formatRecord(a),
    '  vizor: ' + formatRecord(b),
  ];
  return lines.join('\n');
}
