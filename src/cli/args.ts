// Small, strict parsers for command-line values. Each returns null for text it does not accept,
// so the caller can print one clear usage line.

/** 0x7c00, 7c00h, 31744, 1_000_000. */
export function parseAddress(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  let v: number;
  if (/^0x[0-9a-f]+$/.test(t)) v = parseInt(t.slice(2), 16);
  else if (/^[0-9][0-9a-f]*h$/.test(t)) v = parseInt(t.slice(0, -1), 16);
  else if (/^[0-9]+$/.test(t)) v = parseInt(t, 10);
  else return null;
  return v <= 0xffffffff ? v : null;
}

/** A count such as 100000, 1_000_000, 1e6, 2M (×10^6) or 2G (×10^9). */
export function parseCount(text: string): number | null {
  const t = text.trim().toLowerCase().replace(/_/g, '');
  const m = /^([0-9]+(?:\.[0-9]+)?(?:e[0-9]+)?)([kmg]?)$/.exec(t);
  if (!m) return null;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2] as '' | 'k' | 'm' | 'g'];
  const v = Number(m[1]) * scale;
  return Number.isSafeInteger(v) && v > 0 ? v : null;
}

/** A memory size: 64M, 512K, 1G, or bytes; binary units (M = MiB). */
export function parseSize(text: string): number | null {
  const m = /^([0-9]+)\s*([kmg]?)i?b?$/i.exec(text.trim());
  if (!m) return null;
  const unit = { '': 1, k: 1024, m: 1048576, g: 1073741824 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) ? v : null;
}
