// `vizor run --hv ...`: several guests under the hypervisor. `runHypervisor(options)` does the whole
// run and returns the exit status; `parseHvArgs(args)` turns `vizor run` arguments into options
// (through the option table of run-options.ts); `runHvArgs` is both, for run.ts. Each VM's serial
// output is kept apart: prefixed per line on stdout ("[vm0] ..."), or one file per VM with --serial-dir.
import { hypervisorTraceParams } from '../hypervisor/trace-params.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BootError, type BootMode } from '../machine/machine.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique, type Vm } from '../hypervisor/index.ts';
import type { EventKind } from '../trace/index.ts';
import { parseRunArgs, type RunArgs } from './run-options.ts';
import { bootModeFor, readImageOrSay } from './image.ts';
import { writeAllSync } from './fd-write.ts';
import { openTraceSinks } from './run.ts';

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

/** The image files and run options of a parsed `vizor run --hv` (mode 'hv'). */
function hvOptionsOf(a: RunArgs): ParsedArgs {
  const plain = a.images[0];
  return {
    files: plain !== undefined ? Array.from({ length: a.vms }, () => plain) : a.vmImages,
    vms: a.vms,
    rest: {
      mode: a.boot, cpu: a.cpu ?? 'vtx', paging: a.paging ?? 'shadow', sched: a.sched, weights: a.weights, caps: a.caps,
      memoryBytes: a.memoryBytes, maxInstructions: a.maxInstructions, serialDir: a.serialDir,
      trace: a.trace, perfetto: a.perfetto, traceKinds: a.traceKinds,
    },
  };
}

/** Parses `vizor run --hv ...` arguments (with or without the --hv itself). */
export function parseHvArgs(args: string[]): ParsedArgs | string {
  const parsed = parseRunArgs(args.includes('--hv') ? args : ['--hv', ...args]);
  if (typeof parsed === 'string') return parsed;
  if (parsed.mode !== 'hv') return '--save-at and --restore are not runs of several VMs';
  return hvOptionsOf(parsed);
}

/** Line-buffered "[vmN] " prefixing of one VM's serial output. */
export class PrefixedSerial {
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

/** A VM's exit status, as `vizor run` gives a bare machine's (12: the hypervisor stopped it). */
export function vmStatus(vm: Vm): number {
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
export function fdWriter(fd: number): (text: string) => void {
  let closed = false;
  return (text) => {
    if (!closed) closed = !writeAllSync(fd, Buffer.from(text, 'utf8'));
  };
}

/** The VMM's share of the host beside each VM: its shadow or nested tables (two sets of 1025 frames). */
const TABLE_BYTES_PER_VM = 2 * 1025 * 4096;
/** The hypervisor's host memory is one Memory, so at most what the machine holds (1 GiB). */
const HOST_LIMIT = 1 << 30;

/**
 * Host memory for `vms` VMs of `memoryBytes` each, their tables and the hypervisor's own first
 * MiB, with slack, in whole MiB; null when they do not fit the 1 GiB host. One VM of the largest
 * --mem (MEM_MAX in args.ts) fits.
 */
export function hostMemoryFor(vms: number, memoryBytes: number): number | null {
  const need = vms * (memoryBytes + TABLE_BYTES_PER_VM);
  const host = Math.min(HOST_LIMIT, Math.ceil((need + (4 << 20)) / (1 << 20)) << 20);
  return need + (1 << 20) > host ? null : host;
}

/** The whole `vizor run --hv` behaviour; returns the exit status. */
export async function runHypervisor(opts: HvRunOptions): Promise<number> {
  const stdout = opts.stdout ?? fdWriter(1);
  const stderr = opts.stderr ?? fdWriter(2);
  const n = opts.images.length;
  const hostBytes = hostMemoryFor(n, opts.memoryBytes);
  if (hostBytes === null) {
    stderr(`vizor run: --mem ${opts.memoryBytes >> 20}M: ${n} VMs of that size do not fit the hypervisor's 1 GiB host; use fewer VMs or a smaller --mem\n`);
    return 2;
  }
  const hv = new Hypervisor({ hostMemoryBytes: hostBytes, sched: opts.sched });
  let traces: { close(): void } | null = null;
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
        hv.addVm({
          name, image: img.bytes, boot: bootModeFor(img.bytes, img.path, opts.mode), memoryBytes: opts.memoryBytes, cpu: opts.cpu,
          paging: opts.paging, weight: opts.weights[i] ?? 256, cap: opts.caps[i] ?? 0, maxInstructions: opts.maxInstructions,
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
    const params = { image: opts.images.map((i) => basename(i.path)).join(','), mode: `hv ${opts.cpu} ${opts.paging} ${opts.sched}`, memoryBytes: opts.memoryBytes, ...hypervisorTraceParams(hv) };
    traces = openTraceSinks(hv.emitter, opts, params);
    hv.frames.events?.announce(); // the frames the images took before the trace began
    hv.run();
    for (const s of serials) s.flush();
    if (opts.serialDir !== undefined) {
      mkdirSync(opts.serialDir, { recursive: true });
      texts.forEach((t, i) => writeFileSync(join(opts.serialDir!, `vm${i}.txt`), t, 'latin1'));
    }
    for (const vm of hv.vms) {
      if (vm.end !== null && vm.end.reason !== 'debug-exit') stderr(`vizor: ${vm.name}: ${vm.describeEnd()}\n`);
    }
    return Math.max(...hv.vms.map(vmStatus));
  } finally {
    traces?.close();
    hv.release();
  }
}

/** `vizor run --hv ...` once parsed: reads the images (status 4 for a bad one) and runs them. */
export async function runHvArgs(args: RunArgs): Promise<number> {
  const parsed = hvOptionsOf(args);
  const images: HvImage[] = [];
  for (const path of parsed.files) {
    const bytes = await readImageOrSay(path, (t) => process.stderr.write(t));
    if (bytes === null) return 4;
    images.push({ path, bytes });
  }
  return runHypervisor({ ...parsed.rest, images });
}
