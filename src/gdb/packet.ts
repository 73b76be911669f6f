// The GDB remote serial protocol's framing: `$payload#cs` packets with a modulo-256 checksum,
// `+`/`-` acknowledgements, `}`-escaping of binary data, and the 0x03 interrupt byte. Bytes are
// handled as latin1 strings (one char per byte), which keeps binary X packets intact.

export function checksum(payload: string): number {
  let sum = 0;
  for (let i = 0; i < payload.length; i++) sum = (sum + payload.charCodeAt(i)) & 0xff;
  return sum;
}

/** Escapes `$ # } *` as GDB requires in packet data. */
export function escape(payload: string): string {
  return payload.replace(/[$#}*]/g, (c) => '}' + String.fromCharCode(c.charCodeAt(0) ^ 0x20));
}

export function unescape(data: string): string {
  if (!data.includes('}')) return data;
  let out = '';
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    if (c === '}' && i + 1 < data.length) out += String.fromCharCode(data.charCodeAt(++i) ^ 0x20);
    else out += c;
  }
  return out;
}

/** A complete packet on the wire. */
export function frame(payload: string): string {
  const body = escape(payload);
  return `$${body}#${checksum(body).toString(16).padStart(2, '0')}`;
}

export type WireEvent =
  | { type: 'packet'; payload: string }
  | { type: 'bad-checksum'; payload: string }
  | { type: 'ack' }
  | { type: 'nak' }
  | { type: 'interrupt' };

/** Splits an incoming byte stream into packets, acks and interrupts (feed it chunks as they come). */
export class PacketReader {
  private buf = '';

  feed(chunk: string): WireEvent[] {
    this.buf += chunk;
    const out: WireEvent[] = [];
    for (;;) {
      if (this.buf.length === 0) break;
      const c = this.buf[0]!;
      if (c === '+') {
        out.push({ type: 'ack' });
        this.buf = this.buf.slice(1);
      } else if (c === '-') {
        out.push({ type: 'nak' });
        this.buf = this.buf.slice(1);
      } else if (c === '\x03') {
        out.push({ type: 'interrupt' });
        this.buf = this.buf.slice(1);
      } else if (c === '$') {
        const end = this.findEnd();
        if (end < 0 || end + 2 >= this.buf.length) break; // incomplete
        const body = this.buf.slice(1, end);
        const sum = parseInt(this.buf.slice(end + 1, end + 3), 16);
        this.buf = this.buf.slice(end + 3);
        out.push(sum === checksum(body) ? { type: 'packet', payload: unescape(body) } : { type: 'bad-checksum', payload: body });
      } else {
        this.buf = this.buf.slice(1); // noise between packets
      }
    }
    return out;
  }

  /** Index of the '#' ending the packet at buf[0] ('#' inside data is always escaped). */
  private findEnd(): number {
    return this.buf.indexOf('#', 1);
  }
}

// ---- hex helpers ------------------------------------------------------------------------------

export function toHex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || /[^0-9a-fA-F]/.test(hex)) throw new Error(`bad hex data '${hex.slice(0, 16)}'`);
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A value as `size` little-endian bytes in hex (GDB's register encoding). */
export function leHex(value: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) s += ((Math.floor(value / 2 ** (8 * i)) & 0xff) >>> 0).toString(16).padStart(2, '0');
  return s;
}

export function parseLeHex(hex: string): number {
  let v = 0;
  for (let i = hex.length / 2 - 1; i >= 0; i--) v = v * 256 + parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return v >>> 0;
}

export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

export function fromLatin1(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}
