// `vizor run --hv ...`: several guests under the hypervisor. `runHypervisor(options)` does the whole
// run and returns the exit status; `parseHvArgs(args)` turns `vizor run` arguments into options;
// `command(args)` is both (for the dispatcher). Each VM's serial output is kept apart: prefixed
// per line on stdout ("[vm0] ..."), or one file per VM with --serial-dir.
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BootError, type BootMode } from '../machine/machine.ts';
import { detectBootMode } from '../machine/boot/load.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique, type Vm } from '../hypervisor/index.ts';
import { createTraceSink, parseKindList, type EventKind, type TraceSink } from '../trace/index.ts';
import { parseCount, parseSize } from './args.ts';
import { ImageError, readImage } from './image.ts';
import { writeAllSync } from './fd-write.ts';

export const HV_USAGE = `usage: vizor run --hv image|file.asm [--vms N] [options]
       vizor run --hv --vm image [--vm image ...] [options]

Runs guests side by side under vizor's hypervisor. Each VM's COM1 output goes to stdout with
"[vmN] " before each line, or to DIR/vmN.txt with --serial-dir DIR.
  --vms N              N copies of the image (default 1)
  --vm IMAGE           one VM per --vm (repeatable; instead of a plain image argument)
  --cpu vtx|deprivilege|bt        CPU virtualization (default vtx)
  --paging shadow|nested          memory virtualization (default shadow)
  --sched rr|credit               scheduling policy (default rr)
  --weight W[,W...]    credit weights per VM in order (default 256 each)
  --cap C[,C...]       credit caps in % of the CPU per VM (0 = none)
  --multiboot | --boot-sector | --flat ADDR   how to load (default: detected); a boot sector
                       runs on the BIOS, which each VM carries (ROM images need the bare machine)
  --mem SIZE           memory per VM (default 64M)
  --max-instructions N per VM, in its own virtual time (default 2,000,000,000)
  --serial-dir DIR     one serial file per VM instead of prefixed stdout
  --trace FILE, --perfetto FILE, --trace-kinds K,...   the event stream (every VM, the scheduler)

Exit status: with one VM as for a bare run ((v<<1)|1 after debug-exit v, 6 triple fault,
8 instruction limit, 10 halted for good, 12 stopped by the hypervisor); with several, the
highest of the VMs' statuses. 2 usage, 4 bad image, 70 internal error.
`;

export interface HvImage {
  path: string;
  bytes: Uint8Array;
}

export interface HvRunOptions {
  images: HvImage[];
  mode?: BootMode;
  cpu: CpuTechnique;
  paging: PagingTechnique;
  sched: 'rr' | 'credit';
  weights: number[];
  caps: number[];
  memoryBytes: number;
  maxInstructions: number;
  serialDir?: string;
  trace?: string;
  perfetto?: string;
  traceKinds?: EventKind[];
  /** Where prefixed serial lines and messages go (default: the process's stdout and stderr). */
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
}

interface ParsedArgs {
  files: string[];
  vms: number;
  rest: Omit<HvRunOptions, 'images'>;
}

const oneOf = <T extends string>(v: string, allowed: readonly T[], name: string): T => {
  if (!(allowed as readonly string[]).includes(v)) throw new Error(`${name} takes ${allowed.join(' or ')}, not '${v}'`);
  return v as T;
};

const numberList = (v: string, name: string, max: number): number[] =>
  v.split(',').map((s) => {
    const n = Number(s);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new Error(`${name} takes numbers from 0 to ${max} separated by commas, not '${v}'`);
    return n;
  });

/** Parses `vizor run --hv ...` arguments (with or without the --hv itself). */
export function parseHvArgs(args: string[]): ParsedArgs | string {
  const o: ParsedArgs = {
    files: [], vms: 1,
    rest: { cpu: 'vtx', paging: 'shadow', sched: 'rr', weights: [], caps: [], memoryBytes: 64 << 20, maxInstructions: 2_000_000_000 },
  };
  let plain: string | undefined;
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined) throw new Error(`${name} needs a value`);
    return v;
  };
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      switch (a) {
        case '--hv': break;
        case '--vms': {
          const n = parseCount(value(++i, a));
          if (n === null || n < 1 || n > 64) throw new Error(`--vms takes a count from 1 to 64, not '${args[i]}'`);
          o.vms = n;
          break;
        }
        case '--vm': o.files.push(value(++i, a)); break;
        case '--cpu': o.rest.cpu = oneOf(value(++i, a), ['vtx', 'deprivilege', 'bt'] as const, a); break;
        case '--paging': o.rest.paging = oneOf(value(++i, a), ['shadow', 'nested'] as const, a); break;
        case '--sched': o.rest.sched = oneOf(value(++i, a), ['rr', 'credit'] as const, a); break;
        case '--weight': o.rest.weights = numberList(value(++i, a), a, 65535).map((w) => Math.max(1, w)); break;
        case '--cap': o.rest.caps = numberList(value(++i, a), a, 100); break;
        case '--multiboot': o.rest.mode = { kind: 'multiboot' }; break;
        case '--boot-sector': o.rest.mode = { kind: 'boot-sector' }; break;
        case '--rom': o.rest.mode = { kind: 'rom' }; break; // refused when the VM is created, with the reason
        case '--flat': {
          const v = value(++i, a);
          const n = Number(v);
          if (!Number.isInteger(n) || n < 0) throw new Error(`--flat takes an address such as 0x100000, not '${v}'`);
          o.rest.mode = { kind: 'flat', address: n };
          break;
        }
        case '--mem': {
          const v = value(++i, a);
          const n = parseSize(v);
          if (n === null || n < 2 << 20 || n > 256 << 20 || n % 4096 !== 0) throw new Error(`--mem takes a size from 2M to 256M per VM, not '${v}'`);
          o.rest.memoryBytes = n;
          break;
        }
        case '--max-instructions': {
          const n = parseCount(value(++i, a));
          if (n === null) throw new Error(`--max-instructions takes a positive count, not '${args[i]}'`);
          o.rest.maxInstructions = n;
          break;
        }
        case '--serial-dir': o.rest.serialDir = value(++i, a); break;
        case '--trace': o.rest.trace = value(++i, a); break;
        case '--perfetto': o.rest.perfetto = value(++i, a); break;
        case '--trace-kinds': {
          const parsed = parseKindList(value(++i, a));
          if ('unknown' in parsed) throw new Error(`--trace-kinds: unknown event kind(s) ${parsed.unknown.join(', ')}`);
          o.rest.traceKinds = parsed.kinds;
          break;
        }
        default:
          if (a.startsWith('-')) throw new Error(`unknown option '${a}' (with --hv)`);
          if (plain !== undefined) throw new Error(`only one image, got '${plain}' and '${a}' (use --vm for several)`);
          plain = a;
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  if (plain !== undefined && o.files.length > 0) return 'give either an image with --vms or --vm images, not both';
  if (plain !== undefined) o.files = Array.from({ length: o.vms }, () => plain!);
  else if (o.vms !== 1 && o.files.length > 0) return '--vms goes with one plain image, not with --vm';
  if (o.files.length === 0) return 'no image given';
  return o;
}

/** Line-buffered "[vmN] " prefixing of one VM's serial output. */
class PrefixedSerial {
  private partial = '';
  constructor(private readonly prefix: string, private readonly out: (text: string) => void) {}
  write(text: string): void {
    const parts = (this.partial + text).split('\n');
    this.partial = parts.pop()!;
    if (parts.length > 0) this.out(parts.map((l) => `${this.prefix}${l}\n`).join(''));
  }
  flush(): void {
    if (this.partial !== '') this.out(`${this.prefix}${this.partial}\n`);
    this.partial = '';
  }
}

function statusOf(vm: Vm): number {
  const e = vm.end;
  if (e === null) return 70;
  switch (e.reason) {
    case 'debug-exit': return ((e.code << 1) | 1) & 0xff;
    case 'triple-fault': return 6;
    case 'instruction-limit': return 8;
    case 'halted': return 10;
    case 'reset': case 'killed': return 12;
  }
}

/** Unbuffered UTF-8 output to `fd` that drops the rest once the reader has gone (see writeAllSync). */
function fdWriter(fd: number): (text: string) => void {
  let closed = false;
  return (text) => {
    if (!closed) closed = !writeAllSync(fd, Buffer.from(text, 'utf8'));
  };
}

/** The whole `vizor run --hv` behaviour; returns the exit status. */
export async function runHypervisor(opts: HvRunOptions): Promise<number> {
  const stdout = opts.stdout ?? fdWriter(1);
  const stderr = opts.stderr ?? fdWriter(2);
  const n = opts.images.length;
  const tablesPerVm = 2 * 1025 * 4096;
  const hostBytes = Math.min(1 << 30, Math.ceil((n * (opts.memoryBytes + tablesPerVm) + (4 << 20)) / (1 << 20)) << 20);
  if (n * (opts.memoryBytes + tablesPerVm) + (1 << 20) > hostBytes) {
    stderr(`vizor: ${n} VMs of ${opts.memoryBytes >> 20} MiB do not fit the 1 GiB host; use fewer VMs or a smaller --mem\n`);
    return 2;
  }
  const hv = new Hypervisor({ hostMemoryBytes: hostBytes, sched: opts.sched });
  const sinks: { sink: TraceSink; fd: number }[] = [];
  const serials: PrefixedSerial[] = [];
  const texts: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const img = opts.images[i]!;
      const name = `vm${i}`;
      const serial = new PrefixedSerial(`[${name}] `, stdout);
      serials.push(serial);
      texts.push('');
      try {
        let mode = opts.mode ?? detectBootMode(img.bytes);
        if (mode.kind === 'multiboot' && mode.cmdline === undefined) mode = { kind: 'multiboot', cmdline: `${img.path} ` };
        hv.addVm({
          name, image: img.bytes, boot: mode, memoryBytes: opts.memoryBytes, cpu: opts.cpu, paging: opts.paging,
          weight: opts.weights[i] ?? 256, cap: opts.caps[i] ?? 0, maxInstructions: opts.maxInstructions,
          serial: opts.serialDir !== undefined ? (t) => { texts[i] += t; } : (t) => serial.write(t),
        });
      } catch (err) {
        if (err instanceof BootError) {
          stderr(`vizor: ${img.path}: ${err.message}\n`);
          return 4;
        }
        throw err;
      }
    }
    const params = { image: opts.images.map((i) => basename(i.path)).join(','), mode: `hv ${opts.cpu} ${opts.paging} ${opts.sched}`, memoryBytes: opts.memoryBytes };
    for (const [path, format] of [[opts.trace, 'ndjson'], [opts.perfetto, 'perfetto']] as const) {
      if (path === undefined) continue;
      const fd = openSync(path, 'w');
      const sink = createTraceSink({ format, kinds: opts.traceKinds, params, write: (s) => { writeSync(fd, s); } });
      hv.emitter.listen(sink.listener);
      sinks.push({ sink, fd });
    }
    hv.run();
    for (const s of serials) s.flush();
    if (opts.serialDir !== undefined) {
      mkdirSync(opts.serialDir, { recursive: true });
      texts.forEach((t, i) => writeFileSync(join(opts.serialDir!, `vm${i}.txt`), t, 'latin1'));
    }
    for (const vm of hv.vms) {
      if (vm.end !== null && vm.end.reason !== 'debug-exit') stderr(`vizor: ${vm.name}: ${vm.describeEnd()}\n`);
    }
    return Math.max(...hv.vms.map(statusOf));
  } finally {
    for (const { sink, fd } of sinks) { sink.close(); closeSync(fd); }
    hv.release();
  }
}

/** `vizor run --hv ...` from raw arguments (reads the images, reports usage errors). */
export async function command(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    fdWriter(1)(HV_USAGE);
    return 0;
  }
  const parsed = parseHvArgs(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`vizor run: ${parsed}\n${HV_USAGE}`);
    return 2;
  }
  const images: HvImage[] = [];
  for (const path of parsed.files) {
    try {
      images.push({ path, bytes: await readImage(path) });
    } catch (err) {
      if (err instanceof ImageError) {
        process.stderr.write(`vizor: ${path}: ${err.message}\n`);
        return 4;
      }
      throw err;
    }
  }
  return runHypervisor({ ...parsed.rest, images });
}
