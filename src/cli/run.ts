// `vizor run image|file.asm`: boots an image on the emulated PC, serial output to stdout, exit status
// from the guest's debug-exit write ((v<<1)|1, as QEMU) or from how the run ended (even numbers).
import { closeSync, openSync, writeSync } from 'node:fs';
import { Machine, BootError, type BootMode, type RunResult } from '../machine/machine.ts';
import { createTraceSink, traceFormatFor, type Emitter, type TraceSink, type TraceSinkOptions } from '../trace/index.ts';
import { parseRunArgs, RUN_SYNOPSIS, RUN_USAGE, type RunArgs } from './run-options.ts';
import { bootModeFor, readImageOrSay } from './image.ts';
import { writeAllSync } from './fd-write.ts';

const CHUNK = 50_000_000;

/** Where the event stream goes: --trace (NDJSON; binary when the name ends in .vzt) and --perfetto files, listening on `emitter`. */
export function openTraceSinks(emitter: Emitter, o: Pick<RunArgs, 'trace' | 'perfetto' | 'traceKinds'>, params: TraceSinkOptions['params']): { close(): void } {
  const sinks: { sink: TraceSink; fd: number }[] = [];
  for (const [path, format] of [[o.trace, traceFormatFor(o.trace ?? '')], [o.perfetto, 'perfetto']] as const) {
    if (path === undefined) continue;
    const fd = openSync(path, 'w');
    const sink = createTraceSink({ format, kinds: o.traceKinds, params, write: (t) => { writeSync(fd, t); }, writeBytes: (b) => { writeSync(fd, b); } });
    emitter.listen(sink.listener);
    sinks.push({ sink, fd });
  }
  return { close() { for (const { sink, fd } of sinks) { sink.close(); closeSync(fd); } } };
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

/** "vizor run: MESSAGE" with the synopsis after it: what every usage error of `vizor run` prints. */
export function usageErrorText(message: string): string {
  return `vizor run: ${message}\n${RUN_SYNOPSIS}'vizor run --help' lists every option.\n`;
}

export async function command(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const opts = parseRunArgs(args);
  if (typeof opts === 'string') {
    process.stderr.write(usageErrorText(opts));
    return 2;
  }
  if (opts.mode === 'snapshot') return (await import('./snapshot.ts')).runSnapshot(opts);
  if (opts.mode === 'hv') return (await import('./hv.ts')).runHvArgs(opts);
  return runBare(opts);
}

/** A bare run: one image on the emulated PC. */
async function runBare(opts: RunArgs): Promise<number> {
  const file = opts.images[0]!;
  const image = await readImageOrSay(file, (t) => process.stderr.write(t));
  if (image === null) return 4;

  const out = new FdWriter(1, 1 << 16);
  const input = stdinFeed();
  let traces: { close(): void } | null = null;
  let cpuTrace: FdWriter | null = null;
  try {
    // Under GDB the debugger prints the console itself: stepping back replays instructions, and
    // each byte must still appear once.
    const serial = opts.gdbPort === undefined ? (t: string) => out.write(t) : undefined;
    const machine = new Machine({ memoryBytes: opts.memoryBytes, serial, serialInput: input.next });
    let mode: BootMode;
    try {
      mode = bootModeFor(image, file, opts.boot, opts.cmdline);
      machine.load(image, mode);
    } catch (err) {
      if (err instanceof BootError) {
        process.stderr.write(`vizor: ${file}: ${err.message}\n`);
        return 4;
      }
      throw err;
    }
    traces = openTraceSinks(machine.emitter, opts, { image: file, mode: mode.kind, memoryBytes: opts.memoryBytes });
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
    return bareStatus(result, machine, opts.maxInstructions, (t) => process.stderr.write(t));
  } finally {
    out.flush();
    input.close();
    traces?.close();
    if (cpuTrace) { cpuTrace.flush(); closeSync(cpuTrace.fd); }
  }
}

function vgaScreen(lines: string[]): string {
  const shown = [...lines];
  while (shown.length > 0 && shown[shown.length - 1] === '') shown.pop();
  return ['--- VGA text screen ---', ...shown, '---'].join('\n') + '\n';
}

/** The exit status of a bare run that ended with `r`, and the line that says why (on `err`). */
export function bareStatus(r: RunResult, machine: Machine, maxInstructions: number, err: (text: string) => void): number {
  const at = `EIP=${h(machine.cpu.getState().eip)}`;
  switch (r.reason) {
    case 'debug-exit': return ((r.code << 1) | 1) & 0xff;
    case 'triple-fault':
      err(`vizor: triple fault at ${at}, the machine shut down\n`);
      return 6;
    case 'instruction-limit':
      err(`vizor: instruction limit of ${maxInstructions} reached\n`);
      return 8;
    case 'halted':
      if (r.waitingForKey) err(`vizor: the guest waits for a key press at ${at} and no keyboard is connected\n`);
      else if (!r.interruptsEnabled) err(`vizor: the guest halted with interrupts disabled at ${at}\n`);
      else err(`vizor: the guest halted at ${at} with nothing left to wake it\n`);
      return 10;
    case 'stopped':
      err('vizor: the run was stopped\n');
      return 70;
  }
}
