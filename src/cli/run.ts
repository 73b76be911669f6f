// `vizor run image|file.asm`: boots an image on the emulated PC, serial output to stdout, exit status
// from the guest's debug-exit write ((v<<1)|1, as QEMU) or from how the run ended (even numbers).
import { closeSync, openSync, writeSync } from 'node:fs';
import { Machine, BootError, type BootMode, type RunResult } from '../machine/machine.ts';
import { detectBootMode } from '../machine/boot/load.ts';
import { createTraceSink, parseKindList, type EventKind, type TraceSink } from '../trace/index.ts';
import { parseAddress, parseCount, parseSize } from './args.ts';
import { ImageError, readImage } from './image.ts';
import { writeAllSync } from './fd-write.ts';

export const USAGE = `usage: vizor run image|file.asm [options]

Boots the image on the emulated PC. Serial (COM1) output goes to stdout.
  --boot-sector        512-byte boot sector at 0000:7C00 in real mode with the built-in BIOS
                       (DL=0x80; 0x00 when the image has a floppy size such as 1.44 MB)
  --multiboot          Multiboot v1 kernel (ELF32 or a.out kludge), entered as QEMU -kernel does
  --flat ADDR          raw binary loaded at ADDR and entered there in 32-bit flat protected mode
                       (CS=0x08, data 0x10, ESP=0x6F08, interrupts off, BIOS tables present)
  --rom                64/128 KiB BIOS ROM at the top of the first MiB and of 4 GiB, started at F000:FFF0
                       (without a flag: a Multiboot header means --multiboot, a 512-byte image or
                       0x55AA at offset 510 means --boot-sector)
  --cmdline TEXT       Multiboot command line (default: the image path and a space, as QEMU)
  --mem SIZE           memory size, e.g. 16M, 64M (default), 256M
  --max-instructions N stop after N instructions of virtual time (default 2,000,000,000; halted
                       time counts as the instructions that would have run)
  --vga                print the final VGA text screen to stderr after the run
  --trace-cpu FILE     one JSON line per executed instruction, the state before it executes
  --trace FILE         the event stream as NDJSON (--trace-kinds exit,io,... to choose kinds)
  --perfetto FILE      the event stream as Chrome/Perfetto trace JSON
  --save-at N FILE     save a snapshot (.vzs) after exactly N instructions and keep running
  --restore FILE       resume a saved snapshot (no image; add --hv for one taken under --hv)
  --hv ...             run under the hypervisor, several VMs side by side (vizor run --hv --help)
  --gdb PORT           wait for GDB (target remote :PORT) and let it drive the machine;
                       reverse-stepi and reverse-continue work

Exit status: (v<<1)|1 when the guest writes v to port 0xF4 (QEMU's isa-debug-exit);
2 usage, 4 bad or unreadable image, 6 triple fault, 8 instruction limit, 10 halted for good, 70 internal error.
`;

const DEFAULT_MAX = 2_000_000_000;
const CHUNK = 50_000_000;

interface Options {
  file: string; mode?: BootMode; cmdline?: string; memoryBytes: number; maxInstructions: number;
  vga: boolean; traceCpu?: string; trace?: string; traceKinds?: EventKind[]; perfetto?: string;
  gdbPort?: number;
}

function parseOptions(args: string[]): Options | string {
  const o: Partial<Options> & { memoryBytes: number; maxInstructions: number; vga: boolean } = {
    memoryBytes: 64 * 1048576, maxInstructions: DEFAULT_MAX, vga: false,
  };
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined) throw new Error(`${name} needs a value`);
    return v;
  };
  const setMode = (m: BootMode) => {
    if (o.mode) throw new Error('give only one of --boot-sector, --multiboot, --flat, --rom');
    o.mode = m;
  };
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      switch (a) {
        case '--boot-sector': setMode({ kind: 'boot-sector' }); break;
        case '--multiboot': setMode({ kind: 'multiboot' }); break;
        case '--rom': setMode({ kind: 'rom' }); break;
        case '--flat': {
          const v = value(++i, '--flat');
          const addr = parseAddress(v);
          if (addr === null) return `--flat takes an address such as 0x100000, not '${v}'`;
          setMode({ kind: 'flat', address: addr });
          break;
        }
        case '--cmdline': o.cmdline = value(++i, a); break;
        case '--mem': {
          const v = value(++i, a);
          const n = parseSize(v);
          if (n === null || n < 2 * 1048576 || n > 1024 * 1048576 || n % 4096 !== 0) return `--mem takes a size from 2M to 1G such as 64M, not '${v}'`;
          o.memoryBytes = n;
          break;
        }
        case '--max-instructions': {
          const v = value(++i, a);
          const n = parseCount(v);
          if (n === null) return `--max-instructions takes a positive count such as 1000000, not '${v}'`;
          o.maxInstructions = n;
          break;
        }
        case '--vga': o.vga = true; break;
        case '--trace-cpu': o.traceCpu = value(++i, a); break;
        case '--trace': o.trace = value(++i, a); break;
        case '--perfetto': o.perfetto = value(++i, a); break;
        case '--gdb': {
          const v = value(++i, a);
          const port = Number(v);
          if (!/^\d+$/.test(v) || port > 65535) return `--gdb takes a TCP port such as 1234, not '${v}'`;
          o.gdbPort = port;
          break;
        }
        case '--trace-kinds': {
          const parsed = parseKindList(value(++i, a));
          if ('unknown' in parsed) return `--trace-kinds: unknown event kind(s) ${parsed.unknown.join(', ')}`;
          o.traceKinds = parsed.kinds;
          break;
        }
        default:
          if (a.startsWith('-') && a !== '-') return `unknown option '${a}'`;
          if (o.file !== undefined) return `only one image, got '${o.file}' and '${a}'`;
          o.file = a;
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  if (o.file === undefined) return 'no image given';
  if (o.traceKinds && !o.trace && !o.perfetto) return '--trace-kinds needs --trace or --perfetto';
  if (o.gdbPort !== undefined && o.traceCpu !== undefined) return '--gdb and --trace-cpu cannot be used together';
  return o as Options;
}

/** Buffered output to a file descriptor: the per-instruction trace writes 100,000s of lines. */
class FdWriter {
  private parts: string[] = [];
  private bytes = 0;
  constructor(readonly fd: number, private readonly limit = 1 << 20) {}
  write(s: string): void {
    this.parts.push(s);
    this.bytes += s.length;
    if (this.bytes >= this.limit) this.flush();
  }
  flush(): void {
    if (this.parts.length === 0) return;
    const text = this.parts.join('');
    this.parts = [];
    this.bytes = 0;
    if (!this.closed) this.closed = !writeAllSync(this.fd, Buffer.from(text, 'latin1'));
  }
  /** The reader went away: the rest of this stream is dropped. */
  private closed = false;
}

function utf8Writer(fd: number): (s: string) => void {
  return (s) => { writeSync(fd, s); };
}

const h = (v: number) => '0x' + (v >>> 0).toString(16).toUpperCase().padStart(8, '0');

function attachCpuTrace(machine: Machine, w: FdWriter): void {
  let n = 0;
  machine.cpu.hooks = {
    beforeInstruction(cpu) {
      const s = cpu.getState();
      w.write(`{"n":${n++},"cs":${s.cs.selector},"eip":${s.eip >>> 0},"eax":${s.eax >>> 0},"ecx":${s.ecx >>> 0},"edx":${s.edx >>> 0},"ebx":${s.ebx >>> 0},"esp":${s.esp >>> 0},"ebp":${s.ebp >>> 0},"esi":${s.esi >>> 0},"edi":${s.edi >>> 0},"eflags":${s.eflags >>> 0},"ds":${s.ds.selector},"es":${s.es.selector},"ss":${s.ss.selector},"fs":${s.fs.selector},"gs":${s.gs.selector},"cr0":${s.cr0 >>> 0},"cr2":${s.cr2 >>> 0},"cr3":${s.cr3 >>> 0}}\n`);
      return false;
    },
  };
}

/** Bytes typed on stdin go to COM1's receiver. Only data that has arrived is used; never waits. */
function stdinFeed(): { next: () => number | undefined; close: () => void } {
  const queue: number[] = [];
  const stdin = process.stdin;
  const onData = (chunk: Buffer) => { for (const b of chunk) queue.push(b); };
  let attached = false;
  if (!stdin.isTTY) {
    stdin.on('data', onData);
    stdin.on('error', () => {});
    attached = true;
  }
  return {
    next: () => queue.shift(),
    close: () => {
      if (!attached) return;
      stdin.off('data', onData);
      stdin.pause();
      stdin.unref?.();
      if (typeof (stdin as { destroy?: () => void }).destroy === 'function') stdin.destroy();
    },
  };
}

export async function command(args: string[]): Promise<number> {
  // Snapshots (bare or --hv): src/cli/snapshot.ts runs the whole thing; see its SNAPSHOT_USAGE.
  if (args.includes('--save-at') || args.includes('--restore')) return (await import('./snapshot.ts')).command(args);
  if (args.includes('--hv')) return (await import('./hv.ts')).command(args); // see `vizor run --hv --help`
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = parseOptions(args);
  if (typeof opts === 'string') {
    process.stderr.write(`vizor run: ${opts}\n${USAGE}`);
    return 2;
  }
  const file = opts.file;
  let image: Uint8Array;
  try {
    image = await readImage(file);
  } catch (err) {
    if (err instanceof ImageError) {
      process.stderr.write((err.cause === 'assembly' ? err.message : `vizor: ${file}: ${err.message}`) + '\n');
      return 4;
    }
    throw err;
  }

  const out = new FdWriter(1, 1 << 16);
  const input = stdinFeed();
  const sinks: { sink: TraceSink; fd: number }[] = [];
  let cpuTrace: FdWriter | null = null;
  try {
    // Under GDB the debugger prints the console itself: stepping back replays instructions, and
    // each byte must still appear once.
    const serial = opts.gdbPort === undefined ? (t: string) => out.write(t) : undefined;
    const machine = new Machine({ memoryBytes: opts.memoryBytes, serial, serialInput: input.next });
    let mode: BootMode;
    try {
      mode = opts.mode ?? detectBootMode(image);
      if (mode.kind === 'multiboot' && mode.cmdline === undefined) mode = { kind: 'multiboot', cmdline: opts.cmdline ?? `${file} ` };
      machine.load(image, mode);
    } catch (err) {
      if (err instanceof BootError) {
        process.stderr.write(`vizor: ${file}: ${err.message}\n`);
        return 4;
      }
      throw err;
    }
    const params = { image: file, mode: mode.kind, memoryBytes: opts.memoryBytes };
    for (const [path, format] of [[opts.trace, 'ndjson'], [opts.perfetto, 'perfetto']] as const) {
      if (path === undefined) continue;
      const fd = openSync(path, 'w');
      const sink = createTraceSink({ format, kinds: opts.traceKinds, params, write: utf8Writer(fd) });
      machine.emitter.listen(sink.listener);
      sinks.push({ sink, fd });
    }
    if (opts.traceCpu !== undefined) {
      cpuTrace = new FdWriter(openSync(opts.traceCpu, 'w'));
      attachCpuTrace(machine, cpuTrace);
    }

    if (opts.gdbPort !== undefined) {
      const { serveGdb } = await import('./gdb-attach.ts');
      return await serveGdb(machine, opts.gdbPort, {
        maxInstructions: opts.maxInstructions,
        output: (t) => {
          out.write(t);
          out.flush();
        },
      });
    }
    let left = opts.maxInstructions;
    let result: RunResult;
    for (;;) {
      const step = Math.min(CHUNK, left);
      const before = machine.nowNs();
      result = machine.run(step);
      out.flush();
      left -= Math.round((machine.nowNs() - before) / 32);
      if (result.reason !== 'instruction-limit' || left <= 0) break;
      await new Promise((r) => setImmediate(r)); // let stdin data arrive between chunks
    }
    if (result.reason === 'instruction-limit' && machine.emitter.wants('shutdown')) {
      machine.emitter.emit('shutdown', { reason: 'instruction-limit' });
    }
    if (opts.vga) process.stderr.write(vgaScreen(machine.vgaText()));
    return report(result, machine, opts);
  } finally {
    out.flush();
    input.close();
    for (const { sink, fd } of sinks) { sink.close(); closeSync(fd); }
    if (cpuTrace) { cpuTrace.flush(); closeSync(cpuTrace.fd); }
  }
}

function vgaScreen(lines: string[]): string {
  const shown = [...lines];
  while (shown.length > 0 && shown[shown.length - 1] === '') shown.pop();
  return ['--- VGA text screen ---', ...shown, '---'].join('\n') + '\n';
}

function report(r: RunResult, machine: Machine, opts: Options): number {
  const st = machine.cpu.getState();
  const at = `EIP=${h(st.eip)}`;
  switch (r.reason) {
    case 'debug-exit': return ((r.code << 1) | 1) & 0xff;
    case 'triple-fault':
      process.stderr.write(`vizor: triple fault at ${at}, the machine shut down\n`);
      return 6;
    case 'instruction-limit':
      process.stderr.write(`vizor: instruction limit of ${opts.maxInstructions} reached\n`);
      return 8;
    case 'halted':
      if (r.waitingForKey) process.stderr.write(`vizor: the guest waits for a key press at ${at} and no keyboard is connected\n`);
      else if (!r.interruptsEnabled) process.stderr.write(`vizor: the guest halted with interrupts disabled at ${at}\n`);
      else process.stderr.write(`vizor: the guest halted at ${at} with nothing left to wake it\n`);
      return 10;
    case 'stopped':
      process.stderr.write('vizor: the run was stopped\n');
      return 70;
  }
}
