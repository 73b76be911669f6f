// The options of `vizor run`, each once: its value kind (parser, bounds, words for messages), its
// help text, which modes accept it, and where its value goes. The parser and the usage text are
// both made from this table; run.ts (bare), hv.ts (--hv) and snapshot.ts (--save-at/--restore)
// only consume the parsed `RunArgs`.
import type { BootMode } from '../machine/machine.ts';
import type { CpuTechnique, PagingTechnique } from '../hypervisor/index.ts';
import type { EventKind } from '../trace/index.ts';
import { address, choice, count, eventKinds, MEM_MAX, MEM_MIN, memorySize, numberList, tcpPort, text, type ValueKind } from './args.ts';

/** bare: the emulated PC; hv: under the hypervisor; snapshot: --save-at or --restore (bare or --hv). */
export type RunMode = 'bare' | 'hv' | 'snapshot';

export interface RunArgs {
  mode: RunMode;
  /** --hv was given (in hv mode always; in snapshot mode for a VM snapshot). */
  hv: boolean;
  /** Plain (positional) image arguments; the modes accept one. */
  images: string[];
  /** --vm images, in order. */
  vmImages: string[];
  vms: number;
  boot?: BootMode;
  cmdline?: string;
  memoryBytes: number;
  maxInstructions: number;
  vga: boolean;
  traceCpu?: string;
  trace?: string;
  perfetto?: string;
  traceKinds?: EventKind[];
  gdbPort?: number;
  /** Unset: vtx and shadow, or what a restored snapshot was taken with. */
  cpu?: CpuTechnique;
  paging?: PagingTechnique;
  sched: 'rr' | 'credit';
  weights: number[];
  caps: number[];
  serialDir?: string;
  saveAt?: { instructions: number; path: string };
  restore?: string;
}

export const DEFAULT_MAX_INSTRUCTIONS = 2_000_000_000;

function defaults(): RunArgs {
  return {
    mode: 'bare', hv: false, images: [], vmImages: [], vms: 1, memoryBytes: 64 << 20, maxInstructions: DEFAULT_MAX_INSTRUCTIONS,
    vga: false, sched: 'rr', weights: [], caps: [],
  };
}

interface RunOption {
  name: string;
  /** One kind per value the option takes (none for a flag). */
  values: ValueKind<unknown>[];
  modes: readonly RunMode[];
  help: string;
  /** Stores the parsed values; a string is a usage error (e.g. two boot modes). */
  set(o: RunArgs, values: unknown[]): string | void;
}

/** Builds a table row with the value types checked against `set`. */
function opt<V extends unknown[]>(name: string, values: { [K in keyof V]: ValueKind<V[K]> }, modes: readonly RunMode[], help: string,
  set: (o: RunArgs, v: V) => string | void): RunOption {
  return { name, values: values as ValueKind<unknown>[], modes, help, set: set as RunOption['set'] };
}

const FILE = text('FILE', 'a file name'), IMAGE = text('IMAGE', 'an image file'), DIR = text('DIR', 'a directory');
const COMMAND_LINE = text('TEXT', 'the kernel command line');
const VM_COUNT = count(1, 64), WEIGHTS = numberList(65535, 'W[,W...]'), CAPS = numberList(100, 'C[,C...]');

/** The hypervisor's techniques (also `vizor migrate`'s). */
export const CPU = choice(['vtx', 'deprivilege', 'bt'] as const);
export const PAGING = choice(['shadow', 'nested'] as const);

const ALL: readonly RunMode[] = ['bare', 'hv', 'snapshot'];
const BARE: readonly RunMode[] = ['bare'];
const TRACING: readonly RunMode[] = ['bare', 'hv'];
const NOT_HV: readonly RunMode[] = ['bare', 'snapshot'];
/** Options of the hypervisor: they need --hv, also when saving or restoring. */
const WITH_HV: readonly RunMode[] = ['hv', 'snapshot'];
const HV_RUN: readonly RunMode[] = ['hv'];
const SNAPSHOT: readonly RunMode[] = ['snapshot'];

function setBoot(o: RunArgs, boot: BootMode): string | void {
  if (o.boot !== undefined) return 'give only one of --boot-sector, --multiboot, --flat, --rom';
  o.boot = boot;
}

/** The table, in the order of the usage text. */
export const RUN_OPTIONS: readonly RunOption[] = [
  opt('--boot-sector', [], ALL, `512-byte boot sector at 0000:7C00 in real mode with the built-in BIOS
(DL=0x80; 0x00 when the image has a floppy size such as 1.44 MB)`, (o) => setBoot(o, { kind: 'boot-sector' })),
  opt('--multiboot', [], ALL, 'Multiboot v1 kernel (ELF32 or a.out kludge), entered as QEMU -kernel does',
    (o) => setBoot(o, { kind: 'multiboot' })),
  opt('--flat', [address], ALL, `raw binary loaded at ADDR and entered there in 32-bit flat protected mode
(CS=0x08, data 0x10, ESP=0x6F08, interrupts off, BIOS tables present)`, (o, [a]) => setBoot(o, { kind: 'flat', address: a })),
  opt('--rom', [], ALL, `64/128 KiB BIOS ROM at the top of the first MiB and of 4 GiB, started at F000:FFF0
(bare machine only: VMs do not model the reset vector)
(without a flag: a Multiboot header means --multiboot, a 512-byte image or
0x55AA at offset 510 means --boot-sector)`, (o) => setBoot(o, { kind: 'rom' })),
  opt('--mem', [memorySize], ALL, `memory (per VM under --hv) from ${MEM_MIN >> 20}M to ${MEM_MAX >> 20}M (default 64M)`,
    (o, [n]) => { o.memoryBytes = n; }),
  opt('--max-instructions', [count()], ALL, `stop after N instructions of virtual time (default 2,000,000,000; per VM
under --hv; from the restore point with --restore; halted time counts as
the instructions that would have run)`, (o, [n]) => { o.maxInstructions = n; }),
  opt('--cmdline', [COMMAND_LINE], NOT_HV, 'Multiboot command line (default: the image path and a space, as QEMU)',
    (o, [t]) => { o.cmdline = t; }),
  opt('--vga', [], BARE, 'print the final VGA text screen to stderr after the run', (o) => { o.vga = true; }),
  opt('--trace-cpu', [FILE], BARE, 'one JSON line per executed instruction, the state before it executes',
    (o, [f]) => { o.traceCpu = f; }),
  opt('--gdb', [tcpPort], BARE, `wait for GDB (target remote :PORT) and let it drive the machine;
reverse-stepi and reverse-continue work`, (o, [p]) => { o.gdbPort = p; }),
  opt('--trace', [FILE], TRACING, 'the event stream: binary when FILE ends in .vzt (compact, opens fast in the app), NDJSON otherwise (under --hv: every VM and the scheduler)',
    (o, [f]) => { o.trace = f; }),
  opt('--perfetto', [FILE], TRACING, 'the event stream as Chrome/Perfetto trace JSON', (o, [f]) => { o.perfetto = f; }),
  opt('--trace-kinds', [eventKinds], TRACING, 'only these kinds of events in --trace/--perfetto (default: all)',
    (o, [k]) => { o.traceKinds = k; }),
  opt('--hv', [], WITH_HV, 'run under vizor\'s hypervisor: each VM\'s COM1 lines go to stdout after "[vmN] "',
    (o) => { o.hv = true; }),
  opt('--cpu', [CPU], WITH_HV, 'CPU virtualization (default vtx)',
    (o, [c]) => { o.cpu = c; }),
  opt('--paging', [PAGING], WITH_HV, 'memory virtualization (default shadow)',
    (o, [p]) => { o.paging = p; }),
  opt('--vms', [VM_COUNT], HV_RUN, `N copies of the image side by side, ${VM_COUNT.expects} (default 1)`, (o, [n]) => { o.vms = n; }),
  opt('--vm', [IMAGE], HV_RUN, 'one VM per --vm (repeatable; instead of a plain image argument)',
    (o, [f]) => { o.vmImages.push(f); }),
  opt('--sched', [choice(['rr', 'credit'] as const)], HV_RUN, 'scheduling policy (default rr)', (o, [s]) => { o.sched = s; }),
  opt('--weight', [WEIGHTS], HV_RUN, `credit weights per VM in order, ${WEIGHTS.expects}
(default 256 each; 0 counts as 1)`,
    (o, [ws]) => { o.weights = ws.map((w) => Math.max(1, w)); }),
  opt('--cap', [CAPS], HV_RUN, `credit caps in % of the CPU per VM, ${CAPS.expects}
(0 = none)`,
    (o, [cs]) => { o.caps = cs; }),
  opt('--serial-dir', [DIR], HV_RUN, 'one serial file per VM, DIR/vmN.txt, instead of prefixed stdout',
    (o, [d]) => { o.serialDir = d; }),
  opt('--save-at', [count(), FILE], SNAPSHOT, `after exactly N instructions, save the whole machine (CPU, RAM, devices,
pending interrupts, virtual time) to FILE (.vzs) and keep running`,
  (o, [n, f]) => { o.saveAt = { instructions: n, path: f }; }),
  opt('--restore', [FILE], SNAPSHOT, `resume from FILE instead of booting an image, with the same output as the
original run; a snapshot taken under --hv needs --hv (it may resume under
another --paging or --cpu), a bare one needs none`, (o, [f]) => { o.restore = f; }),
];

const BY_NAME = new Map(RUN_OPTIONS.map((o) => [o.name, o]));

/** "--flat ADDR", "--save-at N FILE". */
export const optionLabel = (o: RunOption): string => [o.name, ...o.values.map((v) => v.metavar)].join(' ');

/** The text after "vizor run: " for a value that `kind` refuses. */
function badValue(name: string, kind: ValueKind<unknown>, got: string): string {
  return kind.why ? `${name}: ${kind.why(got)}` : `${name} takes ${kind.expects}, not '${got}'`;
}

/** Splits the arguments into options with their texts and plain arguments (the table knows the arity). */
function tokenize(args: string[]): { used: { option: RunOption; texts: string[] }[]; plain: string[] } | string {
  const used: { option: RunOption; texts: string[] }[] = [], plain: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const option = BY_NAME.get(a);
    if (option === undefined) {
      if (a.startsWith('-') && a !== '-') return `unknown option '${a}'`;
      plain.push(a);
      continue;
    }
    const texts = args.slice(i + 1, i + 1 + option.values.length);
    if (texts.length < option.values.length) {
      return `${a} needs ${option.values.map((v) => v.metavar).join(' ')}: ${option.values.map((v) => v.expects).join(' and ')}`;
    }
    i += texts.length;
    used.push({ option, texts });
  }
  return { used, plain };
}

/** Why `option` cannot be used in this run, or null when it can. */
function modeRefusal(option: RunOption, mode: RunMode, hv: boolean): string | null {
  const needsHv = option.modes.includes('hv') && !option.modes.includes('bare');
  if (needsHv && !hv) return `${option.name} goes only with --hv (add --hv to run under the hypervisor)`;
  if (option.modes.includes(mode)) return null;
  if (mode === 'snapshot') return `${option.name} does not go with --save-at/--restore`;
  return mode === 'hv' ? `${option.name} does not go with --hv` : `${option.name} needs --save-at or --restore`;
}

/** Parses every `vizor run` argument list; a string is the usage error to print after "vizor run: ". */
export function parseRunArgs(args: string[]): RunArgs | string {
  const tokens = tokenize(args);
  if (typeof tokens === 'string') return tokens;
  const o = defaults();
  const names = new Set(tokens.used.map((u) => u.option.name));
  o.hv = names.has('--hv');
  o.mode = names.has('--save-at') || names.has('--restore') ? 'snapshot' : o.hv ? 'hv' : 'bare';
  for (const { option, texts } of tokens.used) {
    const refusal = modeRefusal(option, o.mode, o.hv);
    if (refusal !== null) return refusal;
    const values: unknown[] = [];
    for (const [k, kind] of option.values.entries()) {
      const v = kind.parse(texts[k]!);
      if (v === null) return badValue(option.name, kind, texts[k]!);
      values.push(v);
    }
    const err = option.set(o, values);
    if (typeof err === 'string') return err;
  }
  o.images = tokens.plain;
  return checkCombination(o);
}

/** The rules between options and image arguments, once every option parsed. */
function checkCombination(o: RunArgs): RunArgs | string {
  const [first, second] = o.images;
  if (second !== undefined) return `only one image, got '${first}' and '${second}'${o.mode === 'hv' ? ' (use --vm for several)' : ''}`;
  if (o.traceKinds !== undefined && o.trace === undefined && o.perfetto === undefined) return '--trace-kinds needs --trace or --perfetto';
  if (o.gdbPort !== undefined && o.traceCpu !== undefined) return '--gdb and --trace-cpu cannot be used together';
  if (o.mode === 'hv') {
    if (first !== undefined && o.vmImages.length > 0) return 'give either an image with --vms or --vm images, not both';
    if (o.vms !== 1 && o.vmImages.length > 0) return '--vms goes with one plain image, not with --vm';
    if (first === undefined && o.vmImages.length === 0) return 'no image given';
    return o;
  }
  if (o.restore !== undefined && first !== undefined) return `--restore resumes the image inside the snapshot: give no image ('${first}')`;
  if (o.restore === undefined && first === undefined) return 'no image given';
  return o;
}

/** The usage text's heading over each group of rows (rows with the same modes stand together). */
const GROUP_HEADINGS = new Map<readonly RunMode[], string>([
  [ALL, 'For every run:'],
  [NOT_HV, 'Bare machine (also with --save-at/--restore):'],
  [BARE, 'Bare machine only:'],
  [TRACING, 'Events (bare machine and --hv):'],
  [WITH_HV, 'Under the hypervisor (these need --hv, also with --save-at/--restore):'],
  [HV_RUN, 'With --hv only:'],
  [SNAPSHOT, 'Snapshots (bare or with --hv):'],
]);

const HELP_COLUMN = 23;

function usageRows(): string[] {
  const lines: string[] = [];
  let modes: readonly RunMode[] | null = null;
  for (const o of RUN_OPTIONS) {
    if (o.modes !== modes) {
      modes = o.modes;
      lines.push('', GROUP_HEADINGS.get(modes)!);
    }
    const label = `  ${optionLabel(o)}`;
    const [firstLine, ...more] = o.help.split('\n');
    if (label.length < HELP_COLUMN) lines.push(label.padEnd(HELP_COLUMN) + firstLine);
    else lines.push(label, ' '.repeat(HELP_COLUMN) + firstLine);
    for (const l of more) lines.push(' '.repeat(HELP_COLUMN) + l);
  }
  return lines;
}

export const RUN_SYNOPSIS = `usage: vizor run image|file.asm [options]
       vizor run --hv image|file.asm [--vms N] [options]     several guests under the hypervisor
       vizor run --hv --vm image [--vm image ...] [options]
       vizor run image|file.asm [--hv] --save-at N file.vzs  save a snapshot and keep running
       vizor run --restore file.vzs [--hv]                    resume a snapshot
`;

/** The whole `vizor run --help` text, made from the table. */
export const RUN_USAGE = `${RUN_SYNOPSIS}
Boots the image on the emulated PC; its serial (COM1) output goes to stdout.
${usageRows().join('\n')}

Exit status: (v<<1)|1 when the guest writes v to port 0xF4 (QEMU's isa-debug-exit);
2 usage, 4 bad or unreadable image (or snapshot file), 6 triple fault, 8 instruction limit,
10 halted for good, 12 stopped by the hypervisor, 70 internal error. With several VMs:
the highest of their statuses.
`;
