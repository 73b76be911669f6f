// Messages for operand combinations no row of the table accepts: name the usual mistakes (two memory
// operands, swapped operands, mismatched sizes, an immediate into a segment register) before falling
// back to "expected one of" the forms the table has.

import { rowsForMnemonic } from './table.ts';
import { OPERAND_INFO, type OperandKind } from './types.ts';
import { regBits, type EncodeRequest, type EncOperand } from './encode-types.ts';
import { matchRow } from './encode-match.ts';

function describeOperand(o: EncOperand): string {
  if (o.t === 'reg') return `${o.reg.cls === 'seg' ? 'segment register' : o.reg.cls === 'cr' ? 'control register' : o.reg.cls === 'dr' ? 'debug register' : `${regBits(o.reg)}-bit register`} ${o.reg.name}`;
  if (o.t === 'mem') return o.size ? `${o.size === 8 ? 'an' : 'a'} ${o.size}-bit memory operand` : 'a memory operand';
  if (o.seg) return 'a far address seg:offset';
  return o.size ? `${o.size === 8 ? 'an' : 'a'} ${o.size}-bit immediate` : 'an immediate value';
}

const KIND_TEXT: Partial<Record<OperandKind, string>> = {
  Eb: 'r/m8', Ew: 'r/m16', Ed: 'r/m32', Ev: 'r/m16/32', Gb: 'reg8', Gw: 'reg16', Gd: 'reg32', Gv: 'reg16/32',
  Rw: 'reg16', Rd: 'reg32', Rv: 'reg16/32', M: 'mem', Mw: 'mem16', Md: 'mem32', Mp: 'far pointer in memory', Ms: 'mem',
  Ma: 'mem', Ib: 'imm8', Iw: 'imm16', Iv: 'imm16/32', Ibs: 'imm8', Jb: 'label', Jv: 'label', Ap: 'seg:offset',
  Cd: 'crN', Dd: 'drN', Sw: 'segment register', Ob: '[address]', Ov: '[address]', Zb: 'reg8', Zv: 'reg16/32',
  Zd: 'reg32', AL: 'al', AX: 'ax', eAX: 'ax/eax', CL: 'cl', DX: 'dx', ES: 'es', CS: 'cs', SS: 'ss', DS: 'ds',
  FS: 'fs', GS: 'gs', '1': '1',
};

/** A mistake students make often enough to deserve its own message, or undefined. */
function commonMistake(req: EncodeRequest, found: string): string | undefined {
  const rows = rowsForMnemonic(req.mnemonic);
  const m = req.mnemonic;
  const [o0, o1] = req.operands;
  if (req.operands.filter((o) => o.t === 'mem').length >= 2) return `an instruction can have at most one memory operand (found ${found}): load one of them into a register first`;
  if (m === 'mov' && o0?.t === 'reg' && o0.reg.cls === 'seg' && o1?.t === 'imm') {
    return `a segment register cannot be loaded with an immediate value: load a general register first (mov ax, value / mov ${o0.reg.name}, ax)`;
  }
  if (m === 'mov' && o0?.t === 'reg' && (o0.reg.cls === 'cr' || o0.reg.cls === 'dr') && o1?.t !== 'reg') {
    return `${o0.reg.name} can only be loaded from a 32-bit general register (mov eax, value / mov ${o0.reg.name}, eax)`;
  }
  if ((m === 'jmp' || m === 'call') && o0?.t === 'imm' && o0.jump === 'far') {
    return `a far ${m} needs segment:offset (${m} 0x08:label) or a far pointer in memory (${m} far [pointer]); a flat binary has no segment for '${m} far label'`;
  }
  if (o0?.t === 'reg' && o0.reg.cls === 'r8' && (m === 'push' || m === 'pop')) return `${m} works on 16- or 32-bit values, not on the 8-bit register ${o0.reg.name}`;
  if (req.operands.length === 1 && o0?.t === 'imm' && rows.every((r) => OPERAND_INFO[r.operands[0]!].form === 'mem')) {
    return `'${m}' needs a memory operand: write the address in brackets, e.g. [label]`;
  }
  if (req.operands.length === 2) {
    const swapped = { ...req, operands: [req.operands[1]!, req.operands[0]!] };
    if (rows.some((r) => matchRow(r, swapped))) return `the operands of '${m}' are the wrong way round: the destination comes first (found ${found})`;
  }
  return undefined;
}

/** The operand forms of the mnemonic, as the student would write them, at most ten. */
function formsList(mnemonic: string): string {
  const rows = rowsForMnemonic(mnemonic);
  const forms = new Set<string>();
  // general forms first: the accumulator, moffs and register-in-opcode rows are NASM's shortcuts
  const general = rows.filter((r) => !r.operands.some((k) => ['Ob', 'Ov', 'Zb', 'Zv', 'Zd', 'AL', 'eAX', 'AX'].includes(k)));
  for (const r of general.length ? general : rows) forms.add(r.operands.map((k) => KIND_TEXT[k] ?? k).join(', ') || '(no operands)');
  return [...forms].slice(0, 10).join(' | ');
}

/** "expected ..., found ..." for an operand combination no row accepts; `spelled` as the source wrote it. */
export function explainMismatch(req: EncodeRequest, spelled = req.mnemonic): string {
  const rows = rowsForMnemonic(req.mnemonic);
  const found = req.operands.length === 0 ? 'no operands' : req.operands.map(describeOperand).join(', ');
  const counts = new Set(rows.map((r) => r.operands.length));
  if (counts.has(req.operands.length)) {
    const mistake = commonMistake(req, found);
    if (mistake) return mistake;
  }
  const sizeOf = (o: EncOperand): number => (o.t === 'reg' && o.reg.cls !== 'seg' ? regBits(o.reg) : o.t === 'mem' ? o.size : 0);
  if (req.operands.length === 2 && counts.has(2)) {
    const [a, b] = [sizeOf(req.operands[0]!), sizeOf(req.operands[1]!)];
    const sameSizeForm = rows.some((r) => r.operands.length >= 2 && r.operands[0]!.length === 2 && r.operands[1]!.length === 2 && r.operands[0]![1] === r.operands[1]![1]);
    if (a && b && a !== b && sameSizeForm) return `operand sizes do not match: the first operand is ${a}-bit, the second ${b}-bit (${found})`;
  }
  const list = formsList(req.mnemonic);
  if (!counts.has(req.operands.length)) {
    const c = [...counts].sort();
    if (c.length === 1 && c[0] === 0) return `'${spelled}' takes no operands, found ${req.operands.length} (${found})`;
    return `'${spelled}' takes ${c.join(' or ')} operand${c.length === 1 && c[0] === 1 ? '' : 's'}, found ${req.operands.length} (${found}); forms: ${list}`;
  }
  return `invalid combination of operands for '${spelled}': found ${found}; expected one of: ${list}`;
}
