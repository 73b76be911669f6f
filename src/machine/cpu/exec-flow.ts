// Execute functions for control flow: Jcc, JMP, CALL, RET (near and far), LOOPcc, JCXZ, INT n,
// INT3, INTO, IRET. Each runs with cpu.eip already at the next instruction (the return address).
import type { Decoded } from '../../x86/decode.ts';
import type { Cpu } from './cpu.ts';
import type { Exec } from './compile.ts';
import { addrOf, ea, operand, readAt } from './operands.ts';
import { farCall, farJump, farReturn, iret } from './transfer.ts';
import { F_OF } from './state.ts';

export function compileJcc(_cpu: Cpu, d: Decoded): Exec {
  const rel = d.imm | 0;
  const m = d.opsize === 16 ? 0xffff : -1;
  switch (d.row!.cc) {
    case 2:
      return (c) => {
        if (c.getCF()) c.eip = (c.eip + rel) & m;
      };
    case 3:
      return (c) => {
        if (!c.getCF()) c.eip = (c.eip + rel) & m;
      };
    case 4:
      return (c) => {
        if (c.getZF()) c.eip = (c.eip + rel) & m;
      };
    case 5:
      return (c) => {
        if (!c.getZF()) c.eip = (c.eip + rel) & m;
      };
    case 8:
      return (c) => {
        if (c.getSF()) c.eip = (c.eip + rel) & m;
      };
    case 9:
      return (c) => {
        if (!c.getSF()) c.eip = (c.eip + rel) & m;
      };
    default: {
      const cc = d.row!.cc;
      return (c) => {
        if (c.cond(cc)) c.eip = (c.eip + rel) & m;
      };
    }
  }
}

export function compileJmpCall(cpu: Cpu, d: Decoded): Exec {
  const row = d.row!;
  const m = d.opsize === 16 ? 0xffff : -1;
  const size = d.opsize >> 3;
  switch (row.op) {
    case 'jmp': {
      const rel = d.imm | 0;
      return (c) => {
        c.eip = (c.eip + rel) & m;
      };
    }
    case 'call': {
      const rel = d.imm | 0;
      return size === 4
        ? (c) => {
            c.push32(c.eip);
            c.eip = (c.eip + rel) | 0;
          }
        : (c) => {
            c.push16(c.eip);
            c.eip = (c.eip + rel) & 0xffff;
          };
    }
    case 'jmp_indirect': {
      const o = operand(d, row.operands[0]!);
      return (c) => {
        c.eip = readAt(c, o, addrOf(c, o)) & m;
      };
    }
    case 'call_indirect': {
      const o = operand(d, row.operands[0]!);
      return (c) => {
        const t = readAt(c, o, addrOf(c, o)) & m;
        if (size === 4) c.push32(c.eip);
        else c.push16(c.eip);
        c.eip = t;
      };
    }
    case 'ret': {
      const imm = d.imm & 0xffff;
      if (size === 4) {
        if (imm === 0)
          return (c) => {
            c.eip = c.pop32();
          };
        return (c) => {
          c.eip = c.pop32();
          c.addSP(imm);
        };
      }
      return (c) => {
        c.eip = c.pop16();
        c.addSP(imm);
      };
    }
    case 'jmp_far': {
      const sel = d.imm2 & 0xffff,
        off = size === 2 ? d.imm & 0xffff : d.imm | 0;
      return (c) => farJump(c, sel, off, size);
    }
    case 'call_far': {
      const sel = d.imm2 & 0xffff,
        off = size === 2 ? d.imm & 0xffff : d.imm | 0;
      return (c) => farCall(c, sel, off, size);
    }
    case 'jmp_far_indirect':
    case 'call_far_indirect': {
      const o = operand(d, row.operands[0]!);
      const far = row.op === 'jmp_far_indirect' ? farJump : farCall;
      return (c) => {
        const addr = ea(c, o);
        const off = size === 4 ? c.rd32(o.seg, addr) : c.rd16(o.seg, addr);
        const sel = c.rd16(o.seg, (addr + size) & o.am);
        far(c, sel, off, size);
      };
    }
    case 'ret_far': {
      const imm = d.imm & 0xffff;
      return (c) => farReturn(c, size, imm);
    }
    default:
      return iretExec(cpu, size);
  }
}

function iretExec(_cpu: Cpu, size: number): Exec {
  return (c) => iret(c, size);
}

export function compileLoop(_cpu: Cpu, d: Decoded): Exec {
  const rel = d.imm | 0;
  const m = d.opsize === 16 ? 0xffff : -1;
  const a16 = d.adsize === 16;
  const op = d.row!.op;
  if (op === 'jcxz') {
    return a16
      ? (c) => {
          if ((c.regs[1]! & 0xffff) === 0) c.eip = (c.eip + rel) & m;
        }
      : (c) => {
          if (c.regs[1] === 0) c.eip = (c.eip + rel) & m;
        };
  }
  const kind = op === 'loop' ? 0 : op === 'loope' ? 1 : 2;
  return (c) => {
    const r = c.regs;
    let n: number;
    if (a16) {
      n = (r[1]! - 1) & 0xffff;
      r[1] = (r[1]! & ~0xffff) | n;
    } else {
      n = (r[1]! - 1) | 0;
      r[1] = n;
    }
    if (n !== 0 && (kind === 0 || (kind === 1) === c.getZF())) c.eip = (c.eip + rel) & m;
  };
}

export function compileInt(_cpu: Cpu, d: Decoded): Exec {
  switch (d.row!.op) {
    case 'int': {
      const v = d.imm & 0xff;
      return (c) => c.softwareInterrupt(v);
    }
    case 'int3':
      return (c) => c.softwareInterrupt(3);
    case 'int1':
      return (c) => c.softwareInterrupt(1);
    default:
      return (c) => {
        if ((c.getEflags() & F_OF) !== 0) c.softwareInterrupt(4);
      };
  }
}
