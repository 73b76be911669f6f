// Small, strict parsers for command-line values. Each returns null for text it does not accept,
// so the caller can print one clear usage line. The `ValueKind`s below bundle a parser with the
// words that describe it (for usage text and error messages), so that every subcommand that takes
// the same kind of value accepts and explains it the same way.
import { parseKindList, type EventKind } from '../trace/index.ts';

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
  const unit = { '': 1, k: 1024, m: 1048576, g: 1073741824 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) ? v : null;
}

/** A kind of option value: how it is written in usage text, what it must be, and its parser. */
export interface ValueKind<T> {
  /** The placeholder in usage text: SIZE, N, vtx|deprivilege|bt. */
  metavar: string;
  /** Completes "--opt takes ...": "a size from 2M to 1008M such as 64M". */
  expects: string;
  parse(text: string): T | null;
  /** A more precise reason than `expects` for one bad text (e.g. which event kinds are unknown). */
  why?(text: string): string;
}

/**
 * Guest memory, the same bound for the bare machine, every VM under --hv, snapshots and migration:
 * from 2 MiB (the BIOS area and a kernel need the first two) to 1008 MiB. The bare machine's
 * memory holds at most 1 GiB (src/machine/memory.ts); under the hypervisor a VM's memory shares a
 * host of at most 1 GiB with the VMM's first MiB, the VM's shadow or nested tables (2 × 1025
 * frames, 8 MiB) and some slack (see hostMemoryFor in hv.ts), so 1 GiB − 16 MiB is what every
 * mode can hold. Whole 4 KiB pages only.
 */
export const MEM_MIN = 2 << 20;
export const MEM_MAX = (1 << 30) - (16 << 20);

export const memorySize: ValueKind<number> = {
  metavar: 'SIZE',
  expects: `a size from 2M to ${MEM_MAX >> 20}M such as 64M`,
  parse(text) {
    const n = parseSize(text);
    return n !== null && n >= MEM_MIN && n <= MEM_MAX && n % 4096 === 0 ? n : null;
  },
};

export const count = (min = 1, max = Number.MAX_SAFE_INTEGER): ValueKind<number> => ({
  metavar: 'N',
  expects: max === Number.MAX_SAFE_INTEGER ? 'a positive count such as 1000000' : `a count from ${min} to ${max}`,
  parse(text) {
    const n = parseCount(text);
    return n !== null && n >= min && n <= max ? n : null;
  },
});

export const address: ValueKind<number> = { metavar: 'ADDR', expects: 'an address such as 0x100000', parse: parseAddress };

export const tcpPort: ValueKind<number> = {
  metavar: 'PORT',
  expects: 'a TCP port such as 1234',
  parse: (text) => (/^\d+$/.test(text) && Number(text) <= 65535 ? Number(text) : null),
};

/** Any text (a file name, a command line): never refused. */
export const text = (metavar: string, expects: string): ValueKind<string> => ({ metavar, expects, parse: (t) => t });

export function choice<T extends string>(allowed: readonly T[]): ValueKind<T> {
  return {
    metavar: allowed.join('|'),
    expects: allowed.join(' or '),
    parse: (t) => ((allowed as readonly string[]).includes(t) ? (t as T) : null),
  };
}

/** Whole numbers from 0 to `max` separated by commas: 1,2,4. */
export function numberList(max: number, metavar: string): ValueKind<number[]> {
  return {
    metavar,
    expects: `numbers from 0 to ${max} separated by commas`,
    parse(t) {
      const ns = t.split(',').map((s) => (/^\d+$/.test(s) ? Number(s) : NaN));
      return ns.every((n) => n <= max) ? ns : null; // NaN fails the comparison
    },
  };
}

export const eventKinds: ValueKind<EventKind[]> = {
  metavar: 'K,...',
  expects: 'event kinds separated by commas such as exit,io',
  parse(t) {
    const parsed = parseKindList(t);
    return 'kinds' in parsed ? parsed.kinds : null;
  },
  why(t) {
    const parsed = parseKindList(t);
    return 'unknown' in parsed ? `unknown event kind(s) ${parsed.unknown.join(', ')}` : this.expects;
  },
};
