// Which arithmetic flags an instruction leaves architecturally undefined, and which it defines,
// decided from its opcode bytes alone (no operand decoding). The lockstep comparison uses it to
// mask flags that QEMU's TCG and vizor may legitimately compute differently: an undefined flag
// stays "tainted" until an instruction defines it again.

export const CF = 0x001;
export const PF = 0x004;
export const AF = 0x010;
export const ZF = 0x040;
export const SF = 0x080;
export const OF = 0x800;
export const ARITH_FLAGS = CF | PF | AF | ZF | SF | OF;

export interface FlagEffect {
  /** Flags the instruction sets to a defined value. */
  defines: number;
  /** Flags it leaves undefined. */
  undefines: number;
}

const NONE: FlagEffect = { defines: 0, undefines: 0 };
const ALL: FlagEffect = { defines: ARITH_FLAGS, undefines: 0 };
const LOGIC: FlagEffect = { defines: ARITH_FLAGS & ~AF, undefines: AF };
const INCDEC: FlagEffect = { defines: ARITH_FLAGS & ~CF, undefines: 0 };
const MUL: FlagEffect = { defines: CF | OF, undefines: SF | ZF | AF | PF };
const DIV: FlagEffect = { defines: 0, undefines: ARITH_FLAGS };
// Shift and rotate counts are not decoded: a count of 0 changes nothing and a count above 1
// leaves OF undefined, so these define nothing and may taint OF/AF (and CF for big counts).
const SHIFT: FlagEffect = { defines: 0, undefines: OF | AF | CF };
const ROTATE: FlagEffect = { defines: 0, undefines: OF };
const BT: FlagEffect = { defines: CF, undefines: OF | SF | AF | PF };
const BSF: FlagEffect = { defines: ZF, undefines: CF | OF | SF | AF | PF };
const ALU_BY_REG: FlagEffect[] = [ALL, LOGIC, ALL, ALL, LOGIC, ALL, LOGIC, ALL]; // ADD OR ADC SBB AND SUB XOR CMP

const PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

/** The flag effect of the instruction whose bytes start at `at` in `code`. */
export function flagEffect(code: Uint8Array, at: number): FlagEffect {
  let i = at;
  while (i < code.length && PREFIXES.has(code[i]) && i - at < 15) i++;
  const op = code[i];
  const reg = ((code[i + 1] ?? 0) >> 3) & 7;
  if (op === undefined) return NONE;
  if (op < 0x40 && (op & 7) < 6) return ALU_BY_REG[op >> 3];
  switch (op) {
    case 0x27: case 0x2f: return { defines: CF | AF | SF | ZF | PF, undefines: OF }; // DAA DAS
    case 0x37: case 0x3f: return { defines: AF | CF, undefines: OF | SF | ZF | PF }; // AAA AAS
    case 0xd4: case 0xd5: return { defines: SF | ZF | PF, undefines: OF | AF | CF }; // AAM AAD
    case 0x69: case 0x6b: return MUL;
    case 0x80: case 0x81: case 0x82: case 0x83: return ALU_BY_REG[reg];
    case 0x84: case 0x85: case 0xa8: case 0xa9: return LOGIC;
    case 0xa6: case 0xa7: case 0xae: case 0xaf: return ALL; // CMPS SCAS
    case 0xd0: case 0xd1: // count 1: everything but AF is defined
      return reg < 4 ? { defines: CF | OF, undefines: 0 } : { defines: ARITH_FLAGS & ~AF, undefines: AF };
    case 0xc0: case 0xc1: case 0xd2: case 0xd3:
      return reg < 4 ? ROTATE : SHIFT;
    case 0xf6: case 0xf7:
      return [LOGIC, LOGIC, NONE, ALL, MUL, MUL, DIV, DIV][reg];
    case 0xfe: case 0xff: return reg < 2 ? INCDEC : NONE;
    case 0x0f: return twoByte(code[i + 1], ((code[i + 2] ?? 0) >> 3) & 7);
  }
  if (op >= 0x40 && op < 0x50) return INCDEC;
  return NONE;
}

function twoByte(op: number | undefined, reg: number): FlagEffect {
  switch (op) {
    case 0xa3: case 0xab: case 0xb3: case 0xbb: return BT;
    case 0xba: return reg >= 4 ? BT : NONE;
    case 0xbc: case 0xbd: return BSF;
    case 0xa4: case 0xa5: case 0xac: case 0xad: return SHIFT; // SHLD SHRD
    case 0xaf: return MUL;
    case 0xb0: case 0xb1: case 0xc0: case 0xc1: return ALL; // CMPXCHG XADD
    default: return NONE;
  }
}
