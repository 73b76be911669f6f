// The few instruction classes stepping needs to know about, and their lengths: step over must
// find "the next instruction" after a CALL, INT n, REP string op or LOOP; step out must see
// returns. Decoding just these (prefixes, opcode, ModRM/SIB/displacement for CALL r/m) keeps
// the debugger independent of the full decoder.

export type StepClass = 'call' | 'int' | 'rep' | 'loop' | 'ret' | 'iret' | 'other';

export interface Classified {
  kind: StepClass;
  /** Total length in bytes, prefixes included (0 for 'other': not needed). */
  length: number;
}

const SEGMENT_OR_LOCK = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0xf0]);
const STRING_OPS = new Set([0x6c, 0x6d, 0x6e, 0x6f, 0xa4, 0xa5, 0xa6, 0xa7, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf]);

/**
 * Classifies the instruction in `bytes` (at least 15 bytes read at EIP; missing bytes as 0).
 * `code32` is the default operand/address size (CS.D in protected mode, false in real mode).
 */
export function classify(bytes: Uint8Array, code32: boolean): Classified {
  let i = 0;
  let opsize32 = code32;
  let addr32 = code32;
  let rep = false;
  for (; i < 14; i++) {
    const b = bytes[i]!;
    if (b === 0x66) opsize32 = !code32;
    else if (b === 0x67) addr32 = !code32;
    else if (b === 0xf2 || b === 0xf3) rep = true;
    else if (!SEGMENT_OR_LOCK.has(b)) break;
  }
  const op = bytes[i]!;
  const at = (kind: StepClass, rest: number): Classified => ({ kind, length: i + 1 + rest });
  switch (op) {
    case 0xe8: return at('call', opsize32 ? 4 : 2);
    case 0x9a: return at('call', opsize32 ? 6 : 4);
    case 0xcc: case 0xce: case 0xf1: return at('int', 0);
    case 0xcd: return at('int', 1);
    case 0xe0: case 0xe1: case 0xe2: return at('loop', 1);
    case 0xc3: case 0xcb: return at('ret', 0);
    case 0xc2: case 0xca: return at('ret', 2);
    case 0xcf: return at('iret', 0);
    case 0xff: {
      const reg = (bytes[i + 1]! >>> 3) & 7;
      if (reg === 2 || reg === 3) return at('call', modrmLength(bytes, i + 1, addr32));
      return { kind: 'other', length: 0 };
    }
  }
  if (rep && STRING_OPS.has(op)) return at('rep', 0);
  return { kind: 'other', length: 0 };
}

/** Bytes taken by a ModRM byte at `p` with its SIB and displacement. */
function modrmLength(bytes: Uint8Array, p: number, addr32: boolean): number {
  const modrm = bytes[p]!;
  const mod = modrm >>> 6;
  const rm = modrm & 7;
  if (mod === 3) return 1;
  if (!addr32) {
    if (mod === 0) return rm === 6 ? 3 : 1;
    return mod === 1 ? 2 : 3;
  }
  let n = 1;
  if (rm === 4) {
    n++;
    if (mod === 0 && (bytes[p + 1]! & 7) === 5) return n + 4;
  } else if (mod === 0 && rm === 5) {
    return n + 4;
  }
  if (mod === 1) n += 1;
  else if (mod === 2) n += 4;
  return n;
}
