// The disassembler: bytes → lines of NASM text, as ndisasm lays them out. Undecodable bytes become
// `db 0x..` one byte at a time (ndisasm does the same), so the listing resynchronises.
import { Decoded, decodeBytes } from './decode.ts';
import { formatInstruction } from './format.ts';
import { DecodeError, RowFlag } from './types.ts';

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

/** Disassemble one instruction at `offset`: its length and text (length 1 + `db` when invalid). */
export function disassembleOne(bytes: Uint8Array, offset: number, bits: 16 | 32, address: number, d: Decoded = new Decoded()): { length: number; text: string } {
  // ndisasm reads WAIT (9B) as a prefix: `wait` + the instruction that follows, on one line.
  if (bytes[offset] === 0x9b) {
    let n = 1;
    while (bytes[offset + n] === 0x9b) n++;
    const rest = offset + n < bytes.length ? decodeOne(bytes, offset + n, bits, address + n, d) : null;
    if (rest === null || rest.text.startsWith('db ') || rest.invalid) return { length: 1, text: 'wait' };
    return { length: n + rest.length, text: `wait ${rest.text}` };
  }
  const one = decodeOne(bytes, offset, bits, address, d);
  return { length: one.length, text: one.text };
}

function decodeOne(bytes: Uint8Array, offset: number, bits: 16 | 32, address: number, d: Decoded): { length: number; text: string; invalid: boolean } {
  decodeBytes(d, bytes, offset, bits);
  // ndisasm prints undocumented encodings and x87 escapes (not modelled here) as data.
  if (d.row === null || d.error !== DecodeError.NONE || d.row.flags & (RowFlag.UNDOCUMENTED | RowFlag.ESC)) {
    if (d.row !== null && d.row.mnemonic === 'int1') return { length: d.length, text: formatInstruction(d, address, bits), invalid: false };
    return { length: 1, text: byteText(bytes[offset]!, bits), invalid: true };
  }
  return { length: d.length, text: formatInstruction(d, address, bits), invalid: false };
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
