// The disassembler: bytes → lines of NASM text, as ndisasm lays them out. Undecodable bytes become
// `db 0x..` one byte at a time (ndisasm does the same), so the listing resynchronises.
import { Decoded, decodeBytes } from './decode.ts';
import { formatInstruction } from './format.ts';
import { x87Form } from './x87.ts';
import { DecodeError, type OpcodeRow, RowFlag } from './types.ts';

export interface DisasmLine {
  /** Address of the first byte (org + offset). */
  address: number;
  /** The instruction's bytes. */
  bytes: Uint8Array;
  /** NASM-syntax text, e.g. `mov ax,[bx+si+0x10]` or `db 0x0f`. */
  text: string;
}

export interface DisasmOptions {
  bits?: 16 | 32;
  /** Address of bytes[0]. Default 0. */
  org?: number;
}

const PREFIX_NAMES: Record<number, string> = {
  0xf2: 'repne', 0xf3: 'rep', 0x9b: 'wait', 0xf0: 'lock', 0x2e: 'cs', 0x36: 'ss', 0x3e: 'ds', 0x26: 'es', 0x64: 'fs', 0x65: 'gs',
};

/** Text for a byte that does not start a valid instruction (ndisasm's `eatbyte`). */
function byteText(byte: number, bits: 16 | 32): string {
  if (byte === 0x66) return bits === 16 ? 'o32' : 'o16';
  if (byte === 0x67) return bits === 16 ? 'a32' : 'a16';
  return PREFIX_NAMES[byte] ?? `db 0x${byte.toString(16).padStart(2, '0')}`;
}

const PREFIX_BYTES = new Set([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65, 0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x9b]);
const scratch = new Uint8Array(32);

/** Disassemble one instruction at `offset`: its length and text (length 1 + `db` when invalid). */
export function disassembleOne(bytes: Uint8Array, offset: number, bits: 16 | 32, address: number, d: Decoded = new Decoded()): { length: number; text: string } {
  // ndisasm reads WAIT (9B) as one more prefix: `es wait inc eax` is one line. Decode the bytes
  // without the 9B's and put `wait` back among the prefix words.
  let waits = 0;
  let end = offset;
  while (end < bytes.length && PREFIX_BYTES.has(bytes[end]!)) if (bytes[end++] === 0x9b) waits++;
  if (waits > 0) {
    let n = 0;
    for (let i = offset; i < bytes.length && n < scratch.length; i++) if (i >= end || bytes[i] !== 0x9b) scratch[n++] = bytes[i]!;
    const rest = end < bytes.length ? decodeOne(scratch.subarray(0, n), 0, bits, address + waits, d, true) : null;
    if (rest === null || rest.invalid) {
      const first = bytes[offset]!;
      return { length: 1, text: byteText(first, bits) };
    }
    return { length: rest.length + waits, text: rest.text };
  }
  const one = decodeOne(bytes, offset, bits, address, d, false);
  return { length: one.length, text: one.text };
}

/**
 * Encodings the CPU executes but ndisasm's templates reject (it then prints the first byte alone):
 * undocumented aliases, x87 encodings ndisasm has no name for, SETcc with a non-zero ModRM reg field,
 * MOV CRn/DRn with a memory-form ModRM (the 486 ignores mod), BSWAP with a 16-bit operand size.
 */
function ndisasmRejects(d: Decoded, row: OpcodeRow): boolean {
  if (row.flags & RowFlag.ESC) return x87Form(d.opcode, d.mod, d.reg, d.rm) === null;
  if (row.flags & RowFlag.UNDOCUMENTED) return row.mnemonic !== 'int1';
  if (row.op === 'setcc') return d.reg !== 0;
  if (row.map === 1 && row.opcode >= 0x20 && row.opcode <= 0x23) return d.mod !== 3;
  if (row.op === 'bswap') return d.opsize === 16;
  if ((row.op === 'movzx' || row.op === 'movsx') && row.operands[1] === 'Ew') return d.opsize === 16;
  return false;
}

function decodeOne(bytes: Uint8Array, offset: number, bits: 16 | 32, address: number, d: Decoded, wait: boolean): { length: number; text: string; invalid: boolean } {
  decodeBytes(d, bytes, offset, bits);
  // ndisasm 2.16 prints LOCK as a prefix word on any instruction (the CPU raises #UD for those).
  if (d.error === DecodeError.BAD_LOCK && d.candidate !== null && !ndisasmRejects(d, d.candidate)) {
    return { length: d.length, text: formatInstruction(d, address, bits, d.candidate, wait), invalid: false };
  }
  if (d.row === null || ndisasmRejects(d, d.row)) return { length: 1, text: byteText(bytes[offset]!, bits), invalid: true };
  return { length: d.length, text: formatInstruction(d, address, bits, d.row, wait), invalid: false };
}

/** Disassemble a whole buffer. */
export function disassemble(bytes: Uint8Array, options: DisasmOptions = {}): DisasmLine[] {
  const bits = options.bits ?? 16;
  const org = options.org ?? 0;
  const d = new Decoded();
  const lines: DisasmLine[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const { length, text } = disassembleOne(bytes, offset, bits, org + offset, d);
    lines.push({ address: org + offset, bytes: bytes.subarray(offset, offset + length), text });
    offset += length;
  }
  return lines;
}

/** One line as ndisasm prints it: address, hex bytes (continuation lines past 8 bytes), text. */
export function formatListingLine(line: DisasmLine): string {
  const hexBytes = Array.from(line.bytes, (b) => b.toString(16).toUpperCase().padStart(2, '0')).join('');
  const addr = (line.address >>> 0).toString(16).toUpperCase().padStart(8, '0');
  const first = hexBytes.slice(0, 16);
  let out = `${addr}  ${first.padEnd(18)}${line.text}`;
  for (let i = 16; i < hexBytes.length; i += 16) out += `\n         -${hexBytes.slice(i, i + 16)}`;
  return out;
}
