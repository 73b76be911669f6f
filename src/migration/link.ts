// The simulated network link between the two hosts: a bandwidth (bits per second) and a one-way
// latency, both in virtual time. A page travels with an 8-byte header (guest frame number and
// length), as QEMU's RAM stream sends an address word before each page.
export const PAGE_WIRE_BYTES = 4096 + 8;

export interface LinkConfig {
  bandwidthBitsPerSecond: number;
  latencyNs: number;
}

export class Link {
  /** Totals over the link's life. */
  bytesSent = 0;
  constructor(readonly config: LinkConfig) {
    if (!(config.bandwidthBitsPerSecond > 0)) throw new RangeError('link bandwidth must be positive');
    if (!(config.latencyNs >= 0)) throw new RangeError('link latency must not be negative');
  }

  /** ns to push `bytes` onto the wire (no latency). */
  serializeNs(bytes: number): number {
    return (bytes * 8 * 1e9) / this.config.bandwidthBitsPerSecond;
  }

  /** ns from the first byte sent to the last byte received: one latency plus the wire time. */
  transferNs(bytes: number): number {
    return this.config.latencyNs + this.serializeNs(bytes);
  }

  /** One page fetched on demand (post-copy): request one way, page back the other. */
  roundTripPageNs(): number {
    return 2 * this.config.latencyNs + this.serializeNs(PAGE_WIRE_BYTES);
  }

  send(bytes: number): void {
    this.bytesSent += bytes;
  }
}

/** "100M" (bits/s, decimal units: k, M, G; optional "bit/s" or "bps"). Null when not understood. */
export function parseBandwidth(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*([kmg]?)(?:bit\/s|bps|b)?$/i.exec(text.trim());
  if (!m) return null;
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Number(m[1]) * scale;
  return v >= 1000 && v <= 1e12 ? v : null;
}

/** "1ms", "250us", "2s", "100ns" (a bare number is ms). Null when not understood. */
export function parseDuration(text: string): number | null {
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(ns|us|µs|ms|s)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? 'ms').toLowerCase();
  const scale = unit === 'ns' ? 1 : unit === 'us' || unit === 'µs' ? 1e3 : unit === 'ms' ? 1e6 : 1e9;
  const v = Number(m[1]) * scale;
  return Number.isFinite(v) && v <= 1e12 ? v : null;
}
