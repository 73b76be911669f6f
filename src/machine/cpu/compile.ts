// From a decoded instruction (the one opcode table's row plus its fields) to an execute closure.
// The row's `op` key selects a factory; the factory bakes operands, sizes and immediates into the
// closure. Privilege, protected-mode-only and IOPL rules of the row are applied here once.
import type { Decoded } from '../../x86/decode.ts';
import { DecodeError, Rep, RowFlag } from '../../x86/types.ts';
import type { Cpu } from './cpu.ts';
import * as A from './exec-arith.ts';
import * as B from './exec-bits.ts';
import * as D from './exec-data.ts';
import * as S from './exec-string.ts';
import * as F from './exec-flow.ts';
import { compileIo, compileSystem } from './exec-system.ts';
import { protectedMode } from './segments.ts';
import { guestWrap } from './guest-mode.ts';

export type Exec = (cpu: Cpu) => void;
type Factory = (cpu: Cpu, d: Decoded) => Exec;

const FACTORIES: Record<string, Factory> = {};
function def(ops: string, f: Factory): void {
  for (const op of ops.split(' ')) FACTORIES[op] = f;
}
def('add or adc sbb and sub xor cmp test', A.compileAlu);
def('inc dec', A.compileIncDec);
def('pause', () => () => {}); // F3 90: a NOP that guest mode sees (guestWrap below)
def('not neg', A.compileUnary);
def('rol ror rcl rcr shl shr sal sar', A.compileShift);
def('shld shrd', A.compileDoubleShift);
def('mul imul1 div idiv', A.compileMulDiv);
def('imul2 imul3', A.compileImulN);
def('bt bts btr btc', B.compileBitTest);
def('bsf bsr', B.compileBitScan);
def('setcc', B.compileSetcc);
def('movzx movsx', B.compileExtend);
def('cbw cwd', B.compileConvert);
def('xadd cmpxchg', B.compileXaddCmpxchg);
def('bswap', B.compileBswap);
def('daa das aaa aas aam aad', B.compileBcd);
def('clc stc cmc cld std lahf sahf salc', B.compileFlagOp);
def('mov', D.compileMov);
def('mov_from_seg mov_to_seg', D.compileMovSeg);
def('lea', D.compileLea);
def('xchg', D.compileXchg);
def('push push_seg', D.compilePush);
def('pop pop_seg', D.compilePop);
def('pusha popa', D.compilePushaPopa);
def('enter leave', D.compileEnterLeave);
def('xlat', D.compileXlat);
def('les lds lss lfs lgs', D.compileFarLoad);
def('bound', D.compileBound);
def('movs stos lods cmps scas ins outs', S.compileString);
def('jcc', F.compileJcc);
def(
  'jmp call jmp_indirect call_indirect ret jmp_far call_far jmp_far_indirect call_far_indirect ret_far iret',
  F.compileJmpCall,
);
def('loop loope loopne jcxz', F.compileLoop);
def('int int3 into int1', F.compileInt);
def('in out', compileIo);

/**
 * True when the instruction's closure needs cpu.eip = the next instruction's address when it runs
 * (branches, calls, INT, REP, HLT). Such closures set cpu.eip themselves, so they end their block.
 * All other closures never see a current EIP: the block loop stores it only where it is needed.
 */
export function setsEip(d: Decoded): boolean {
  const row = d.row;
  if (row === null) return true;
  if ((row.flags & (RowFlag.BRANCH | RowFlag.STOP)) !== 0) return true;
  if (d.rep !== Rep.NONE && (row.flags & (RowFlag.REP | RowFlag.REPE)) !== 0) return true;
  return row.op === 'hlt';
}

/**
 * True when the block must end after this instruction: it sets EIP, or it may change what the next
 * instruction means or whether the loop must stop (modes, segments, CR/TLB, I/O, IF, requestStop).
 */
export function endsBlock(d: Decoded): boolean {
  if (setsEip(d)) return true;
  const row = d.row!;
  if ((row.flags & (RowFlag.PRIV | RowFlag.IO | RowFlag.IOPL | RowFlag.SEGMENT | RowFlag.ESC)) !== 0)
    return true;
  return row.op === 'popf' || row.op === 'wait' || row.op === 'ud' || row.op === 'bound';
}

/**
 * True when the instruction must start its block: it reads the retired-instruction count (RDTSC,
 * RDMSR, and port I/O, whose devices read virtual time), which is exact only at block starts.
 */
export function startsBlock(d: Decoded): boolean {
  const row = d.row;
  if (row === null) return false;
  return (row.flags & RowFlag.IO) !== 0 || row.op === 'rdtsc' || row.op === 'rdmsr';
}

export function compile(cpu: Cpu, d: Decoded, bytes: number[], next: number): Exec {
  const fn = compileInner(cpu, d, bytes, next);
  if (!setsEip(d)) return fn;
  return (c) => {
    c.eip = next;
    fn(c);
  };
}

function compileInner(cpu: Cpu, d: Decoded, bytes: number[], next: number): Exec {
  const row = d.row;
  if (row === null) {
    if (d.error === DecodeError.TOO_LONG) return (c) => c.raise(13, 0);
    const len = Math.max(1, d.length);
    return (c) => c.undefinedOpcode(bytes, c.eip - len);
  }
  const factory = FACTORIES[row.op];
  let fn = factory !== undefined ? factory(cpu, d) : compileSystem(cpu, d);
  if (fn === null) {
    const len = d.length;
    const raw = bytes.length > 0 ? bytes : [];
    return (c) => c.undefinedOpcode(raw, c.eip - len);
  }
  const flags = row.flags;
  if ((flags & (RowFlag.PRIV | RowFlag.SENSITIVE | RowFlag.IO | RowFlag.IOPL)) !== 0 || row.op === 'cpuid' || row.op === 'pause') {
    fn = guestWrap(fn, d, next); // guest mode: the hypervisor sees these first (after the CPL check; PAUSE for PAUSE-loop exiting)
  }
  if ((flags & RowFlag.PROTECTED_ONLY) !== 0) {
    const inner = fn;
    fn = (c) => {
      if (!protectedMode(c)) c.raise(6);
      inner(c);
    };
  }
  if ((flags & RowFlag.PRIV) !== 0) {
    const inner = fn;
    fn = (c) => {
      if (c.cpl !== 0 && protectedMode(c)) c.raise(13, 0);
      inner(c);
    };
  }
  return fn;
}
