// Number formatting shared by every view: hex the way NASM writes it, decimal on hover.

export function hex(v: number, digits = 8): string {
  return (v >>> 0).toString(16).padStart(digits, '0');
}

export function hex8(v: number): string {
  return (v & 0xff).toString(16).padStart(2, '0');
}

/** Title text for a register value: hex, unsigned, signed (and the character for small values). */
export function valueTitle(v: number, bits = 32): string {
  const u = bits === 32 ? v >>> 0 : v & ((1 << bits) - 1);
  const s = bits === 32 ? v | 0 : u >= 1 << (bits - 1) ? u - (1 << bits) : u;
  const ch = u >= 0x20 && u < 0x7f ? `  '${String.fromCharCode(u)}'` : '';
  return `0x${hex(u, bits / 4)}  =  ${u}${s !== u ? `  (signed ${s})` : ''}${ch}`;
}

/** Parses what a student types into an address box: 0x1000, 1000h, 4096, or a symbol name. */
export function parseAddress(text: string, symbols: { name: string; address: number }[] = []): number | null {
  const t = text.trim().replace(/_/g, '');
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16) >>> 0;
  if (/^[0-9][0-9a-f]*h$/i.test(t)) return parseInt(t.slice(0, -1), 16) >>> 0;
  if (/^\$[0-9a-f]+$/i.test(t)) return parseInt(t.slice(1), 16) >>> 0;
  if (/^\d+$/.test(t)) return parseInt(t, 10) >>> 0;
  const sym = symbols.find((s) => s.name === t) ?? symbols.find((s) => s.name.toLowerCase() === t.toLowerCase());
  return sym ? sym.address >>> 0 : null;
}

export function printable(b: number): string {
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
}

export function readU32(bytes: Uint8Array, off: number): number {
  return (bytes[off] | (bytes[off + 1] << 8) | (bytes[off + 2] << 16) | (bytes[off + 3] << 24)) >>> 0;
}

export function readU16(bytes: Uint8Array, off: number): number {
  return bytes[off] | (bytes[off + 1] << 8);
}
