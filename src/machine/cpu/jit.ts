// Hot blocks compiled to one JavaScript function (the decoded-block cache was shaped for this).
// Each instruction of the common forms (32-bit MOV/ALU/INC/DEC/LEA/PUSH/POP on registers and
// simple memory operands, Jcc/JMP) becomes inline source; any other instruction calls its closure.
// A block that jumps back to its own start loops inside the function while the budget allows.
// The interpreter (closures) stays the reference and the path used with hooks (single-stepping).
//
// Contract of a compiled block `f(c, r, fns, left)`: runs the block (repeatedly for a self-loop),
// adds every retired instruction to c.instructions, sets c.eip, and before an instruction that
// may fault stores its index in c.bi (the run loop turns that into the faulting EIP and count).
import type { Decoded } from '../../x86/decode.ts';
import { O_IMM, O_MEM, O_REG, operand, type Opnd } from './operands.ts';
import { ALU_INDEX, A_ADD, A_AND, A_CMP, A_OR, A_SUB, A_TEST, A_XOR } from './alu.ts';
import { L_ADD, L_DEC, L_INC, L_LOGIC, L_SUB, STATUS } from './state.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';

export type JitFn = (c: Cpu, r: Int32Array, fns: Exec[], left: number) => void;

const S32 = 0x80000000 | 0;

/** A snippet: source text plus whether it may fault (needs c.bi) and whether it sets c.eip. */
export interface Snippet {
  src: string;
  faults: boolean;
  /** For Jcc/JMP: the taken target (absolute EIP); -1 otherwise. */
  target: number;
}

function lazy(op: number, a: string, b: string, x: string): string {
  if (op === L_LOGIC) return `c.lop=${L_LOGIC};c.lr=${x};c.lsign=${S32};c.lazyMask=${STATUS};`;
  return `c.lop=${op};c.la=${a};c.lb=${b};c.lr=${x};c.lsign=${S32};c.lazyMask=${STATUS};`;
}

function eaSrc(o: Opnd): string {
  let s = o.disp !== 0 ? `${o.disp}` : '0';
  if (o.base !== 8) s = `r[${o.base}]+${s}`;
  if (o.index !== 8) s = `(r[${o.index}]<<${o.scale})+${s}`;
  return o.am === -1 ? `((${s})|0)` : `((${s})&65535)`;
}

function aluSrc(op: number, dst: string, a: string, b: string, size = 32): string | null {
  const t = size === 32 ? '|0' : '&255';
  const lz = (o: number, x: string, y: string) => (size === 32 ? lazy(o, x, y, 'x') : lazy8(o, x, y));
  switch (op) {
    case A_ADD:
      return `{const a=${a},b=${b},x=(a+b)${t};${dst.replace('$', 'x')}${lz(L_ADD, 'a', 'b')}}`;
    case A_SUB:
      return `{const a=${a},b=${b},x=(a-b)${t};${dst.replace('$', 'x')}${lz(L_SUB, 'a', 'b')}}`;
    case A_CMP:
      return `{const a=${a},b=${b},x=(a-b)${t};${lz(L_SUB, 'a', 'b')}}`;
    case A_AND:
      return `{const x=${a}&${b};${dst.replace('$', 'x')}${lz(L_LOGIC, '', '')}}`;
    case A_OR:
      return `{const x=${a}|${b};${dst.replace('$', 'x')}${lz(L_LOGIC, '', '')}}`;
    case A_XOR:
      return `{const x=${a}^${b};${dst.replace('$', 'x')}${lz(L_LOGIC, '', '')}}`;
    case A_TEST:
      return `{const x=${a}&${b};${lz(L_LOGIC, '', '')}}`;
    default:
      return null;
  }
}

function lazy8(op: number, a: string, b: string): string {
  if (op === L_LOGIC) return `c.lop=${L_LOGIC};c.lr=x;c.lsign=128;c.lazyMask=${STATUS};`;
  return `c.lop=${op};c.la=${a};c.lb=${b};c.lr=x;c.lsign=128;c.lazyMask=${STATUS};`;
}

/** Source reading an 8- or 32-bit register, immediate or memory operand (8-bit values unsigned). */
function rdSrc(o: Opnd): string {
  if (o.kind === O_IMM) return `${o.size === 32 ? o.imm | 0 : o.imm & 0xff}`;
  if (o.kind === O_REG)
    return o.size === 32
      ? `r[${o.reg}]`
      : o.size === 8
        ? `((r[${o.reg}]>>${o.sh})&255)`
        : `(r[${o.reg}]&65535)`;
  return `c.rd${o.size}(${o.seg},${eaSrc(o)})`;
}

/** Statement writing `x` (an 8-bit value) into an 8-bit register. */
function wrReg8(o: Opnd, x: string): string {
  return `r[${o.reg}]=(r[${o.reg}]&${~(0xff << o.sh)})|((${x}&255)<<${o.sh});`;
}

/** 8-bit ALU, MOV and SETcc forms (string output, console and parsing loops live on bytes). */
function byteSnippet(d: Decoded, next: number): Snippet | null {
  void next;
  const row = d.row!;
  const op = row.op;
  const ops = row.operands;
  if (op in ALU_INDEX) {
    const dst = operand(d, ops[0]!),
      src = operand(d, ops[1]!);
    if (dst.size !== 8 || src.size !== 8 || (dst.kind === O_MEM && src.kind === O_MEM)) return null;
    const aop = ALU_INDEX[op]!;
    const faults = dst.kind === O_MEM || src.kind === O_MEM;
    if (dst.kind === O_REG) {
      const s = aluSrc(aop, wrReg8(dst, '$'), rdSrc(dst), rdSrc(src), 8);
      return s === null ? null : { src: s, faults, target: -1 };
    }
    if (aop === A_CMP || aop === A_TEST) {
      const s = aluSrc(aop, '', rdSrc(dst), rdSrc(src), 8);
      return s === null ? null : { src: s, faults, target: -1 };
    }
    const s = aluSrc(aop, `c.wr8(${dst.seg},e,$);`, `c.rd8(${dst.seg},e)`, rdSrc(src), 8);
    return s === null
      ? null
      : { src: `{const e=${eaSrc(dst)};c.checkWrite(${dst.seg},e,1);${s}}`, faults: true, target: -1 };
  }
  if (op === 'mov') {
    const dst = operand(d, ops[0]!),
      src = operand(d, ops[1]!);
    if (dst.size !== 8 || (dst.kind === O_MEM && src.kind === O_MEM)) return null;
    const v = rdSrc(src);
    if (dst.kind === O_REG)
      return { src: `{const x=${v};${wrReg8(dst, 'x')}}`, faults: src.kind === O_MEM, target: -1 };
    if (dst.kind === O_MEM) return { src: `c.wr8(${dst.seg},${eaSrc(dst)},${v});`, faults: true, target: -1 };
    return null;
  }
  if (op === 'setcc') {
    const o = operand(d, ops[0]!);
    const cond = COND[row.cc] ?? `c.cond(${row.cc})`;
    if (o.kind === O_REG)
      return { src: `{const x=(${cond})?1:0;${wrReg8(o, 'x')}}`, faults: false, target: -1 };
    return { src: `c.wr8(${o.seg},${eaSrc(o)},(${cond})?1:0);`, faults: true, target: -1 };
  }
  return null;
}

const COND: Record<number, string> = {
  2: 'c.getCF()',
  3: '!c.getCF()',
  4: 'c.getZF()',
  5: '!c.getZF()',
  8: 'c.getSF()',
  9: '!c.getSF()',
};

/** Inline source for the decoded instruction, or null (the block then calls its closure). */
export function snippet(d: Decoded, next: number): Snippet | null {
  const row = d.row;
  if (row === null || d.rep !== 0) return null;
  const op = row.op;
  const byteForm = byteSnippet(d, next);
  if (byteForm !== null) return byteForm;
  if (d.opsize !== 32) return null;
  const ops = row.operands;
  const plain = (src: string, faults = false): Snippet => ({ src, faults, target: -1 });
  if (op in ALU_INDEX) {
    const dst = operand(d, ops[0]!),
      src = operand(d, ops[1]!);
    if (dst.size !== 32 || (src.size !== 32 && src.kind !== O_IMM)) return null;
    const aop = ALU_INDEX[op]!;
    const b =
      src.kind === O_REG
        ? `r[${src.reg}]`
        : src.kind === O_IMM
          ? `${src.imm | 0}`
          : `c.rd32(${src.seg},${eaSrc(src)})`;
    if (dst.kind === O_REG) {
      const s = aluSrc(aop, `r[${dst.reg}]=$;`, `r[${dst.reg}]`, b);
      return s === null ? null : plain(s, src.kind === O_MEM);
    }
    if (dst.kind === O_MEM && src.kind !== O_MEM) {
      if (aop === A_CMP || aop === A_TEST) {
        const s = aluSrc(aop, '', `c.rd32(${dst.seg},${eaSrc(dst)})`, b);
        return s === null ? null : plain(s, true);
      }
      const s = aluSrc(aop, `c.wr32(${dst.seg},e,$);`, `c.rd32(${dst.seg},e)`, b);
      return s === null ? null : plain(`{const e=${eaSrc(dst)};c.checkWrite(${dst.seg},e,4);${s}}`, true);
    }
    return null;
  }
  switch (op) {
    case 'mov': {
      const dst = operand(d, ops[0]!),
        src = operand(d, ops[1]!);
      if (dst.size !== 32) return null;
      const v =
        src.kind === O_REG
          ? `r[${src.reg}]`
          : src.kind === O_IMM
            ? `${src.imm | 0}`
            : `c.rd32(${src.seg},${eaSrc(src)})`;
      if (dst.kind === O_REG) return plain(`r[${dst.reg}]=${v};`, src.kind === O_MEM);
      if (dst.kind === O_MEM && src.kind !== O_MEM)
        return plain(`c.wr32(${dst.seg},${eaSrc(dst)},${v});`, true);
      return null;
    }
    case 'inc':
    case 'dec': {
      const o = operand(d, ops[0]!);
      if (o.kind !== O_REG || o.size !== 32) return null;
      const sign = op === 'inc' ? '+' : '-';
      return plain(
        `{const a=r[${o.reg}],x=(a${sign}1)|0;r[${o.reg}]=x;c.setLazyKeepCF(${op === 'inc' ? L_INC : L_DEC},a,x,${S32});}`,
      );
    }
    case 'lea': {
      const dst = operand(d, ops[0]!),
        src = operand(d, ops[1]!);
      return plain(`r[${dst.reg}]=${eaSrc(src)};`);
    }
    case 'push': {
      const o = operand(d, ops[0]!);
      if (o.kind === O_REG) return plain(`c.push32(r[${o.reg}]);`, true);
      if (o.kind === O_IMM) return plain(`c.push32(${o.imm | 0});`, true);
      return null;
    }
    case 'pop': {
      const o = operand(d, ops[0]!);
      if (o.kind === O_REG) return plain(`r[${o.reg}]=c.pop32();`, true);
      return null;
    }
    case 'jcc': {
      const target = (next + (d.imm | 0)) | 0;
      const cond = COND[row.cc] ?? `c.cond(${row.cc})`;
      return { src: `c.eip=(${cond})?${target}:${next};`, faults: false, target };
    }
    case 'jmp': {
      const target = (next + (d.imm | 0)) | 0;
      return { src: `c.eip=${target};`, faults: false, target };
    }
    case 'nop':
      return plain('');
    case 'movzx':
    case 'movsx': {
      const dst = operand(d, ops[0]!),
        src = operand(d, ops[1]!);
      const v = rdSrc(src);
      const ext = op === 'movzx' ? v : src.size === 8 ? `((${v}<<24)>>24)` : `((${v}<<16)>>16)`;
      return plain(`r[${dst.reg}]=${ext};`, src.kind === O_MEM);
    }
    case 'call': {
      const target = (next + (d.imm | 0)) | 0;
      return { src: `c.push32(${next});c.eip=${target};`, faults: true, target };
    }
    case 'ret': {
      const imm = d.imm & 0xffff;
      return {
        src: imm === 0 ? 'c.eip=c.pop32();' : `c.eip=c.pop32();c.addSP(${imm});`,
        faults: true,
        target: -1,
      };
    }
    default:
      return null;
  }
}

/**
 * Builds the block function. `snips[k]` null means: call fns[k]. `startEip`/`endEip`: the block's
 * first EIP and the EIP after its last instruction; `lastSetsEip`: the last instruction sets EIP.
 */
export function buildJit(
  snips: (Snippet | null)[],
  startEip: number,
  endEip: number,
  lastSetsEip: boolean,
): JitFn | null {
  const n = snips.length;
  const last = snips[n - 1];
  const selfLoop = last != null && last.target === startEip;
  let body = '';
  for (let k = 0; k < n; k++) {
    const s = snips[k];
    if (s == null) body += `c.bi=${k};fns[${k}](c);\n`;
    else body += (s.faults ? `c.bi=${k};` : '') + s.src + '\n';
  }
  if (!lastSetsEip) body += `c.eip=${endEip};\n`;
  let src: string;
  if (selfLoop) {
    src =
      `let done=0;\nfor(;;){\n${body}c.instructions+=${n};done+=${n};\n` +
      `if(c.eip!==${startEip}||left-done<${n}||c.stopBlock!==0||(c.intrPending&&(c.flags&512)!==0))return;\n}`;
  } else {
    src = `${body}c.instructions+=${n};`;
  }
  try {
    return new Function('c', 'r', 'fns', 'left', src) as JitFn;
  } catch {
    return null;
  }
}

/** The hooked twin: `f(c, r, fns, hook, hooks)` returns true when the hook stopped before c.bi (c.instructions exact). */
export type JitHookedFn = (
  c: Cpu,
  r: Int32Array,
  fns: Exec[],
  hook: (cpu: Cpu) => boolean,
  hooks: unknown,
) => boolean;

/**
 * A block function for the hooked loop: before each instruction it sets c.eip and c.bi and calls
 * the hook (as the interpreter does), and counts each instruction as it retires (the hook sees an
 * exact c.instructions); no self-loop, so every block boundary stays visible.
 */
export function buildJitHooked(
  snips: (Snippet | null)[],
  offs: Int32Array,
  startEip: number,
  ipMask: number,
  lastSetsEip: boolean,
): JitHookedFn | null {
  const n = snips.length;
  let src = '';
  for (let k = 0; k < n; k++) {
    const s = snips[k];
    src += `c.bi=${k};c.eip=${(startEip + offs[k]!) & ipMask};if(hook.call(hooks,c))return true;\n`;
    src += (s == null ? `fns[${k}](c);` : s.src) + 'c.instructions++;\n';
  }
  if (!lastSetsEip) src += `c.eip=${(startEip + offs[n]!) & ipMask};\n`;
  src += 'return false;';
  try {
    return new Function('c', 'r', 'fns', 'hook', 'hooks', src) as JitHookedFn;
  } catch {
    return null;
  }
}
