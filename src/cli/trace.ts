// `vizor trace summary file.ndjson|file.vzt [--top N]`: validates a recorded trace while streaming it and
// prints the summary table. `vizor trace perfetto file.ndjson -o out.json [--trace-kinds ...]`:
// converts a recorded trace for Perfetto's UI. A corrupt file gets one clear line
// (file:line: what is wrong) and exit status 4; a usage error exits 2.
import { closeSync, createReadStream, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { TraceReader, type TraceError, type TraceHeader } from '../trace/reader.ts';
import { decodeTraceFile, isTraceFile } from '../trace/file.ts';
import { SummaryBuilder, formatSummary } from '../trace/summary.ts';
import { createTraceSink, type TraceSink } from '../trace/sink.ts';
import { KIND_BIT, parseKindList, type EventKind, type TraceEvent } from '../trace/schema.ts';

const USAGE = `usage: vizor trace summary file.ndjson|file.vzt [--top N]
       vizor trace perfetto file.ndjson|file.vzt -o out.json [--trace-kinds exit,pagefault,...]
  summary    counts by kind, by exit reason and by VM, time in each VM and in the
             hypervisor, and the top faulting addresses (--top N of them, default 10)
  perfetto   converts a recorded trace to Chrome/Perfetto trace-event JSON
`;

const EXIT_USAGE = 2;
const EXIT_BAD_FILE = 4;

interface Options {
  sub: 'summary' | 'perfetto';
  file: string;
  top: number;
  out?: string;
  kinds?: EventKind[];
}

function parseArgs(args: string[]): Options | { error: string } {
  const [sub, ...rest] = args;
  if (sub !== 'summary' && sub !== 'perfetto')
    return { error: sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'` };
  const o: Partial<Options> & { sub: Options['sub']; top: number } = { sub, top: 10 };
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const value = (): string | undefined => rest[++i];
    if (a === '--top' && sub === 'summary') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) return { error: '--top needs a whole number' };
      o.top = n;
    } else if ((a === '-o' || a === '--output') && sub === 'perfetto') {
      o.out = value();
      if (o.out === undefined) return { error: `${a} needs a file name` };
    } else if (a === '--trace-kinds' && sub === 'perfetto') {
      const parsed = parseKindList(value() ?? '');
      if ('unknown' in parsed)
        return { error: `--trace-kinds: unknown event kind(s) ${parsed.unknown.join(', ')}` };
      o.kinds = parsed.kinds;
    } else if (a.startsWith('-')) {
      return { error: `unknown option '${a}'` };
    } else if (o.file === undefined) {
      o.file = a;
    } else {
      return { error: `unexpected argument '${a}'` };
    }
  }
  if (o.file === undefined) return { error: 'missing trace file' };
  if (sub === 'perfetto' && o.out === undefined) return { error: 'perfetto needs -o out.json' };
  return o as Options;
}

/** Streams a file's lines into `onLine`; the last line is flagged when it had no newline. Stops when onLine returns false. */
async function eachLine(path: string, onLine: (text: string, endsFile: boolean) => boolean): Promise<void> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  let partial = '';
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop()!;
      for (const line of lines) if (!onLine(line, false)) return;
    }
    if (partial !== '') onLine(partial, true);
  } finally {
    stream.destroy();
  }
}

/** The first bytes of a file (fewer when it is shorter). */
function fileStart(path: string, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const bytes = new Uint8Array(length);
    return bytes.subarray(0, readSync(fd, bytes, 0, length, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads and validates a trace (a binary .vzt file, told by its first bytes, or NDJSON), handing
 * each event to `onEvent`; returns the header or an exit status.
 */
async function readTrace(file: string, onEvent: (ev: TraceEvent) => void): Promise<{ header: TraceHeader | null } | number> {
  let binary: boolean;
  try {
    binary = isTraceFile(fileStart(file, 64));
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    process.stderr.write(`vizor trace: cannot read ${file}: ${why}\n`);
    return EXIT_BAD_FILE;
  }
  return binary ? readBinaryTrace(file, onEvent) : readNdjsonTrace(file, onEvent);
}

function readBinaryTrace(file: string, onEvent: (ev: TraceEvent) => void): { header: TraceHeader } | number {
  const bytes = readFileSync(file);
  const r = decodeTraceFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  if (!r.ok) {
    process.stderr.write(`vizor trace: ${file}: byte ${r.error.offset}: ${r.error.message}\n`);
    return EXIT_BAD_FILE;
  }
  for (const ev of r.events) onEvent(ev);
  return { header: r.header };
}

async function readNdjsonTrace(file: string, onEvent: (ev: TraceEvent) => void): Promise<TraceReader | number> {
  const reader = new TraceReader();
  let error: TraceError | null = null;
  try {
    await eachLine(file, (text, endsFile) => {
      const r = reader.line(text, endsFile);
      if (r.type === 'error') error = r.error;
      else if (r.type === 'event') onEvent(r.event);
      return error === null;
    });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    process.stderr.write(`vizor trace: cannot read ${file}: ${why}\n`);
    return EXIT_BAD_FILE;
  }
  const problem: TraceError | null = error ?? reader.finish();
  if (problem) {
    process.stderr.write(`vizor trace: ${file}:${problem.line}: ${problem.message}\n`);
    return EXIT_BAD_FILE;
  }
  return reader;
}

async function summary(o: Options): Promise<number> {
  const builder = new SummaryBuilder();
  const reader = await readTrace(o.file, (ev) => builder.add(ev));
  if (typeof reader === 'number') return reader;
  process.stdout.write(
    formatSummary(builder.result(), { file: o.file, params: reader.header?.params, top: o.top }),
  );
  return 0;
}

async function perfetto(o: Options): Promise<number> {
  // Events are gathered first: the header's params go to the top of the JSON, and a corrupt
  // input must not leave a half-written output behind.
  const events: TraceEvent[] = [];
  const reader = await readTrace(o.file, (ev) => events.push(ev));
  if (typeof reader === 'number') return reader;
  let fd: number;
  try {
    fd = openSync(o.out!, 'w');
  } catch (err) {
    process.stderr.write(
      `vizor trace: cannot write ${o.out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`,
    );
    return EXIT_BAD_FILE;
  }
  try {
    const sink: TraceSink = createTraceSink({
      format: 'perfetto',
      kinds: o.kinds,
      params: { ...reader.header?.params, source: o.file },
      write: (chunk) => void writeSync(fd, chunk),
    });
    const wanted = sink.listener.mask;
    for (const ev of events) if ((wanted & KIND_BIT[ev.kind]) !== 0) sink.listener.onEvent(ev);
    sink.close();
    process.stderr.write(`vizor trace: ${sink.count} events -> ${o.out}\n`);
  } finally {
    closeSync(fd);
  }
  return 0;
}

export async function command(args: string[]): Promise<number> {
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const o = parseArgs(args);
  if ('error' in o) {
    process.stderr.write(`vizor trace: ${o.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  return o.sub === 'summary' ? summary(o) : perfetto(o);
}
