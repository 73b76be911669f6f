// The instruction encoder: picks a row of the shared opcode table (table.ts) for a mnemonic and
// its resolved operands, the way NASM -Ox does, and produces the bytes.
// Row choice: rows come in NASM's preference order (rowsForMnemonic, by `pref`); the first row whose
// operand kinds accept the operands wins (encode-match.ts). Its bytes come from encode-bytes.ts;
// a short branch is then kept only if its target is in reach, else the near row is tried.

import { rowsForMnemonic, mnemonics } from './table.ts';
import { CC_ALIASES, CC_NAMES, OPERAND_INFO } from './types.ts';
import { WAIT_FORMS } from './x87.ts';
import type { EncImmOperand, EncodeRequest, EncodeResult } from './encode-types.ts';
import { matchRow, type Match } from './encode-match.ts';
import { immBytes, rowBytes } from './encode-bytes.ts';
import { explainMismatch } from './encode-explain.ts';

export type { EncField, EncodeRequest, EncodeResult, EncOperand, EncReg, EncRegClass, EncValue } from './encode-types.ts';
export { hasRelativeForms, hasShortAndNearForms } from './encode-match.ts';
export { prefixByte } from './encode-bytes.ts';

// ---- mnemonics --------------------------------------------------------------------------

/** NASM spellings of the WAIT-prefixed x87 forms (`finit` = `wait fninit`), for the rows the table has. */
const WAITED = new Map<string, string>();
for (const [plain, waited] of Object.entries(WAIT_FORMS)) if (rowsForMnemonic(plain).length) WAITED.set(waited, plain);

const CANON = new Map<string, string>();
for (const m of mnemonics()) CANON.set(m, m);
for (const m of WAITED.keys()) CANON.set(m, m);
CC_ALIASES.forEach((aliases, cc) => {
  for (const a of aliases) {
    CANON.set('j' + a, 'j' + CC_NAMES[cc]);
    CANON.set('set' + a, 'set' + CC_NAMES[cc]);
  }
});
// Other names NASM gives the same instruction; like the cc aliases, a spelling, not a row.
CANON.set('retn', 'ret');
CANON.set('int01', 'int1');

/** The table's spelling of a mnemonic NASM accepts, or undefined. */
export function canonicalMnemonic(word: string): string | undefined {
  return CANON.get(word);
}

// ---- choosing a row ---------------------------------------------------------------------

const SIZE_NOT_SPECIFIED = 'operation size not specified: write byte, word or dword before the memory operand';

/** An unsized memory operand is an error when the rows that accept it disagree on its size. */
function ambiguousSize(matches: Match[], mnemonic: string): boolean {
  const chosen = matches[0]!;
  if (chosen.missingSize) return true;
  if (!chosen.wildSize) return false;
  const sizes = new Set(matches.map((m) => (m.missingSize ? -1 : m.wildSize)));
  // NASM takes the byte source for an unsized `movzx/movsx r, [mem]`: the first row, not an error.
  return sizes.size > 1 && mnemonic !== 'movzx' && mnemonic !== 'movsx';
}

/** Encodes one instruction. Never throws: problems come back in `error`. */
export function encode(req: EncodeRequest): EncodeResult {
  const warnings: string[] = [];
  const spelled = req.mnemonic;
  const plain = WAITED.get(spelled);
  if (plain) req = { ...req, mnemonic: plain, prefixes: ['wait', ...req.prefixes] };
  const rows = rowsForMnemonic(req.mnemonic);
  if (rows.length === 0) return { bytes: [], error: `unknown instruction '${req.mnemonic}'`, operand: -1, warnings };
  for (const o of req.operands) {
    if (o.t === 'reg' && o.reg.cls === 'tr') return { bytes: [], error: `test register '${o.reg.name}' is not supported`, operand: -1, warnings };
  }
  const matches: Match[] = [];
  for (const row of rows) {
    const m = matchRow(row, req);
    if (m) matches.push(m);
  }
  if (matches.length === 0) return { bytes: [], error: explainMismatch(req, spelled), operand: -1, warnings };
  if (ambiguousSize(matches, req.mnemonic)) return { bytes: [], error: SIZE_NOT_SPECIFIED, operand: -1, warnings };
  // Jb: take the short form only if the target is known, in this section and in range
  for (const chosen of matches) {
    const { bytes, relAt, relSize, fields } = rowBytes(chosen, req, warnings);
    if (relAt < 0) return { bytes, warnings, fields };
    const opIndex = chosen.row.operands.findIndex((k) => OPERAND_INFO[k].loc === 'rel');
    const target = req.operands[opIndex] as EncImmOperand;
    let disp = target.v.value - (req.address + bytes.length);
    if (relSize === 2) disp = ((disp % 65536) + 65536) % 65536;
    if (chosen.row.operands[opIndex] === 'Jb') {
      const forced = target.jump === 'short' || !matches.some((m) => m.row.operands[opIndex] === 'Jv');
      const sameSection = target.v.section === req.section || (target.v.simple && req.section < 0);
      const inRange = disp >= -128 && disp <= 127;
      if (!forced && target.v.known && (!sameSection || !inRange)) continue; // try the near form
      if (forced && target.v.known && !inRange) {
        bytes[relAt] = disp & 0xff;
        return { bytes, error: `short jump is out of range: the target is ${disp} bytes away (a short jump reaches -128..127)`, operand: opIndex, warnings };
      }
    }
    const rel: number[] = [];
    immBytes(rel, disp, relSize);
    for (let j = 0; j < relSize; j++) bytes[relAt + j] = rel[j]!;
    return { bytes, warnings, fields };
  }
  return { bytes: [], error: explainMismatch(req, spelled), operand: -1, warnings };
}
