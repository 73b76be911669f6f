// A compact binary encoding of plain data (a tiny CBOR): the machine and VM snapshots are trees of
// numbers, strings, booleans, arrays, plain objects, Maps and typed arrays. RAM pages go in as raw
// bytes, so a snapshot costs about the memory the guest touched, not 10x that as JSON would.
//
// Tags (one byte) then the value, little-endian:
//   0 undefined, 1 null, 2 false, 3 true, 4 int32, 5 float64, 6 string (u32 length + UTF-8),
//   7 array (u32 count + items), 8 object (u32 count + (string key, value) pairs),
//   9 Map (u32 count + (key, value) pairs), 10 Uint8Array, 11 Int32Array, 12 Uint32Array,
//   13 Uint16Array (u32 byte length + bytes).
export class CodecError extends Error {}

const enum Tag { Undef, Null, False, True, Int, Float, Str, Arr, Obj, Map_, U8, I32, U32, U16 }

class Writer {
  private buf = new Uint8Array(1 << 16);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u8(v: number): void { this.room(1); this.buf[this.length++] = v; }
  u32(v: number): void { this.room(4); this.view.setUint32(this.length, v, true); this.length += 4; }
  i32(v: number): void { this.room(4); this.view.setInt32(this.length, v, true); this.length += 4; }
  f64(v: number): void { this.room(8); this.view.setFloat64(this.length, v, true); this.length += 8; }
  bytes(b: Uint8Array): void { this.room(b.length); this.buf.set(b, this.length); this.length += b.length; }
  result(): Uint8Array { return this.buf.slice(0, this.length); }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

function put(w: Writer, v: unknown): void {
  if (v === undefined) return w.u8(Tag.Undef);
  if (v === null) return w.u8(Tag.Null);
  if (v === false) return w.u8(Tag.False);
  if (v === true) return w.u8(Tag.True);
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff && !Object.is(v, -0)) { w.u8(Tag.Int); w.i32(v); }
    else { w.u8(Tag.Float); w.f64(v); }
    return;
  }
  if (typeof v === 'string') {
    const b = utf8.encode(v);
    w.u8(Tag.Str); w.u32(b.length); w.bytes(b);
    return;
  }
  if (Array.isArray(v)) {
    w.u8(Tag.Arr); w.u32(v.length);
    for (const x of v) put(w, x);
    return;
  }
  if (v instanceof Map) {
    w.u8(Tag.Map_); w.u32(v.size);
    for (const [k, x] of v) { put(w, k); put(w, x); }
    return;
  }
  if (ArrayBuffer.isView(v)) {
    const tag = v instanceof Uint8Array ? Tag.U8 : v instanceof Int32Array ? Tag.I32 : v instanceof Uint32Array ? Tag.U32 : v instanceof Uint16Array ? Tag.U16 : -1;
    if (tag < 0) throw new CodecError(`cannot encode a ${v.constructor.name}`);
    w.u8(tag); w.u32(v.byteLength);
    w.bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
    return;
  }
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    w.u8(Tag.Obj); w.u32(entries.length);
    for (const [k, x] of entries) { const b = utf8.encode(k); w.u32(b.length); w.bytes(b); put(w, x); }
    return;
  }
  throw new CodecError(`cannot encode a ${typeof v}`);
}

export function encodeValue(v: unknown): Uint8Array {
  const w = new Writer();
  put(w, v);
  return w.result();
}

/** Decodes what encodeValue wrote; throws CodecError on anything malformed (never reads past the end). */
export function decodeValue(bytes: Uint8Array): unknown {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let p = 0;
  const need = (n: number) => { if (p + n > bytes.length) throw new CodecError('payload ends early'); };
  const u32 = () => { need(4); const v = view.getUint32(p, true); p += 4; return v; };
  const raw = (n: number) => { need(n); const b = bytes.slice(p, p + n); p += n; return b; };
  const str = (n: number) => { need(n); const s = fromUtf8.decode(bytes.subarray(p, p + n)); p += n; return s; };
  const aligned = (b: Uint8Array, unit: number) => {
    if (b.length % unit !== 0) throw new CodecError('typed array of a bad length');
    return b.buffer;
  };
  const get = (depth: number): unknown => {
    if (depth > 64) throw new CodecError('nesting too deep');
    need(1);
    const tag = bytes[p++]!;
    switch (tag) {
      case Tag.Undef: return undefined;
      case Tag.Null: return null;
      case Tag.False: return false;
      case Tag.True: return true;
      case Tag.Int: { need(4); const v = view.getInt32(p, true); p += 4; return v; }
      case Tag.Float: { need(8); const v = view.getFloat64(p, true); p += 8; return v; }
      case Tag.Str: return str(u32());
      case Tag.Arr: {
        const n = u32();
        if (n > bytes.length - p) throw new CodecError('array longer than the payload');
        const a: unknown[] = [];
        for (let i = 0; i < n; i++) a.push(get(depth + 1));
        return a;
      }
      case Tag.Obj: {
        const n = u32();
        if (n > bytes.length - p) throw new CodecError('object larger than the payload');
        const o: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) { const k = str(u32()); o[k] = get(depth + 1); }
        return o;
      }
      case Tag.Map_: {
        const n = u32();
        if (n > bytes.length - p) throw new CodecError('map larger than the payload');
        const m = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) { const k = get(depth + 1); m.set(k, get(depth + 1)); }
        return m;
      }
      case Tag.U8: return raw(u32());
      case Tag.I32: return new Int32Array(aligned(raw(u32()), 4));
      case Tag.U32: return new Uint32Array(aligned(raw(u32()), 4));
      case Tag.U16: return new Uint16Array(aligned(raw(u32()), 2));
      default: throw new CodecError(`unknown value tag ${tag} at byte ${p - 1}`);
    }
  };
  const v = get(0);
  if (p !== bytes.length) throw new CodecError(`${bytes.length - p} stray bytes after the payload`);
  return v;
}
