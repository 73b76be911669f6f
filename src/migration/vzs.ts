// The .vzs snapshot file. Layout (all integers little-endian):
//   0  8 bytes  magic "VIZORSNP"
//   8  u16      format version (VZS_VERSION)
//  10  u16      kind: 1 = bare machine, 2 = a VM under the hypervisor
//  12  u32      header length H (UTF-8 JSON, SnapshotHeader)
//  16  u32      payload length P (codec.ts encoding)
//  20  u32      CRC-32 of bytes 24 .. 24+H+P (header and payload)
//  24  H bytes  header JSON
//  24+H P bytes payload
// The header is readable on its own (what, when, how to boot it); the payload is the state.
import { crc32 } from './crc32.ts';
import { CodecError, decodeValue, encodeValue } from './codec.ts';

export const VZS_MAGIC = 'VIZORSNP';
export const VZS_VERSION = 1;
const PREAMBLE = 24;

export type SnapshotKind = 'machine' | 'vm';
const KIND_CODE: Record<SnapshotKind, number> = { machine: 1, vm: 2 };

export interface SnapshotHeader {
  kind: SnapshotKind;
  /** Image file name (for messages) and how it was booted. */
  image: string;
  boot: { kind: 'multiboot'; cmdline?: string } | { kind: 'boot-sector' } | { kind: 'flat'; address: number } | { kind: 'rom' };
  memoryBytes: number;
  /** Instructions the (v)CPU had retired when the snapshot was taken. */
  instructions: number;
  /** Virtual time in ns. */
  nowNs: number;
  /** Under the hypervisor: the techniques it ran with (a restore may choose others). */
  hv?: { cpu: string; paging: string };
}

/** A refused snapshot file: `message` is one line that says why. */
export class SnapshotError extends Error {}

export function encodeSnapshot(header: SnapshotHeader, payload: unknown): Uint8Array {
  const h = new TextEncoder().encode(JSON.stringify(header));
  const p = encodeValue(payload);
  const out = new Uint8Array(PREAMBLE + h.length + p.length);
  const view = new DataView(out.buffer);
  for (let i = 0; i < 8; i++) out[i] = VZS_MAGIC.charCodeAt(i);
  view.setUint16(8, VZS_VERSION, true);
  view.setUint16(10, KIND_CODE[header.kind], true);
  view.setUint32(12, h.length, true);
  view.setUint32(16, p.length, true);
  out.set(h, PREAMBLE);
  out.set(p, PREAMBLE + h.length);
  view.setUint32(20, crc32(out, PREAMBLE), true);
  return out;
}

/** Reads only the preamble and header (cheap): for messages and kind checks. Throws SnapshotError. */
export function readSnapshotHeader(bytes: Uint8Array): SnapshotHeader {
  return parse(bytes, false).header;
}

/** Checks and decodes a whole file. Throws SnapshotError with a one-line reason. */
export function decodeSnapshot(bytes: Uint8Array, expect?: SnapshotKind): { header: SnapshotHeader; payload: unknown } {
  const r = parse(bytes, true);
  if (expect !== undefined && r.header.kind !== expect) {
    throw new SnapshotError(r.header.kind === 'vm'
      ? 'holds a VM taken under the hypervisor: restore it with --hv'
      : 'holds a bare machine: restore it without --hv');
  }
  return r as { header: SnapshotHeader; payload: unknown };
}

function parse(bytes: Uint8Array, full: boolean): { header: SnapshotHeader; payload?: unknown } {
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(0, 8)) !== VZS_MAGIC) {
    throw new SnapshotError('not a vizor snapshot (no VIZORSNP signature)');
  }
  if (bytes.length < PREAMBLE) throw new SnapshotError(`truncated: ${bytes.length} bytes, shorter than the ${PREAMBLE}-byte preamble`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint16(8, true);
  if (version !== VZS_VERSION) throw new SnapshotError(`snapshot format version ${version}; this vizor reads version ${VZS_VERSION}`);
  const kindCode = view.getUint16(10, true);
  const kind = (Object.keys(KIND_CODE) as SnapshotKind[]).find((k) => KIND_CODE[k] === kindCode);
  if (kind === undefined) throw new SnapshotError(`unknown snapshot kind ${kindCode}`);
  const hLen = view.getUint32(12, true), pLen = view.getUint32(16, true);
  const total = PREAMBLE + hLen + pLen;
  if (bytes.length < total) throw new SnapshotError(`truncated: ${bytes.length} bytes of the ${total} the file announces`);
  if (bytes.length > total) throw new SnapshotError(`${bytes.length - total} unexpected bytes after the snapshot`);
  if (crc32(bytes, PREAMBLE) !== view.getUint32(20, true)) throw new SnapshotError('corrupt: checksum (CRC-32) does not match the contents');
  let header: SnapshotHeader;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PREAMBLE, PREAMBLE + hLen))) as SnapshotHeader;
  } catch {
    throw new SnapshotError('corrupt: the header is not valid JSON');
  }
  if (header === null || typeof header !== 'object' || header.kind !== kind) throw new SnapshotError('corrupt: the header does not match the preamble');
  if (!full) return { header };
  try {
    return { header, payload: decodeValue(bytes.subarray(PREAMBLE + hLen, total)) };
  } catch (e) {
    if (e instanceof CodecError) throw new SnapshotError(`corrupt payload: ${e.message}`);
    throw e;
  }
}
