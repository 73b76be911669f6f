// EFLAGS effects per semantic op key (OpcodeRow.op), from the Intel SDM's per-instruction "Flags
// Affected" sections: which status flags an op defines and which it may leave undefined (tests
// comparing against hardware or QEMU mask those). Ops not listed leave the flags alone.
import { Eflag } from './types.ts';

const { CF, PF, AF, ZF, SF, OF, DF, IF } = Eflag;
const OSZAPC = OF | SF | ZF | AF | PF | CF;
/** POPF/IRET may load any flag. */
const ALL_FLAGS = 0x3f7fd5;

/** [defined, undefined] EFLAGS per semantic op key; ops not listed leave the flags alone. */
export const FLAGS_BY_OP: Record<string, [number, number]> = {
  add: [OSZAPC, 0], adc: [OSZAPC, 0], sub: [OSZAPC, 0], sbb: [OSZAPC, 0], cmp: [OSZAPC, 0], neg: [OSZAPC, 0],
  and: [OF | SF | ZF | PF | CF, AF], or: [OF | SF | ZF | PF | CF, AF], xor: [OF | SF | ZF | PF | CF, AF],
  test: [OF | SF | ZF | PF | CF, AF],
  inc: [OF | SF | ZF | AF | PF, 0], dec: [OF | SF | ZF | AF | PF, 0],
  rol: [CF | OF, OF], ror: [CF | OF, OF], rcl: [CF | OF, OF], rcr: [CF | OF, OF],
  // Shifts: OF is defined only for a count of 1, AF never.
  shl: [OF | SF | ZF | PF | CF, AF | OF], shr: [OF | SF | ZF | PF | CF, AF | OF], sar: [OF | SF | ZF | PF | CF, AF | OF],
  shld: [OF | SF | ZF | PF | CF, AF | OF], shrd: [OF | SF | ZF | PF | CF, AF | OF],
  mul: [OF | CF, SF | ZF | AF | PF], imul1: [OF | CF, SF | ZF | AF | PF],
  imul2: [OF | CF, SF | ZF | AF | PF], imul3: [OF | CF, SF | ZF | AF | PF],
  div: [0, OSZAPC], idiv: [0, OSZAPC],
  daa: [SF | ZF | AF | PF | CF, OF], das: [SF | ZF | AF | PF | CF, OF],
  aaa: [AF | CF, OF | SF | ZF | PF], aas: [AF | CF, OF | SF | ZF | PF],
  aam: [SF | ZF | PF, OF | AF | CF], aad: [SF | ZF | PF, OF | AF | CF],
  bt: [CF, OF | SF | AF | PF], bts: [CF, OF | SF | AF | PF], btr: [CF, OF | SF | AF | PF], btc: [CF, OF | SF | AF | PF],
  bsf: [ZF, OF | SF | AF | PF | CF], bsr: [ZF, OF | SF | AF | PF | CF],
  cmpxchg: [OSZAPC, 0], xadd: [OSZAPC, 0], cmps: [OSZAPC, 0], scas: [OSZAPC, 0],
  lar: [ZF, 0], lsl: [ZF, 0], verr: [ZF, 0], verw: [ZF, 0], arpl: [ZF, 0],
  sahf: [SF | ZF | AF | PF | CF, 0], popf: [ALL_FLAGS, 0], iret: [ALL_FLAGS, 0], salc: [0, 0],
  clc: [CF, 0], stc: [CF, 0], cmc: [CF, 0], cld: [DF, 0], std: [DF, 0], cli: [IF, 0], sti: [IF, 0],
};

