// `vizor trace summary file.ndjson [--top N]`: validates a recorded trace while streaming it and
// prints the summary table. A corrupt file gets one clear line (file:line: what is wrong) and
// exit status 4; a usage error exits 2.
import { createReadStream } from 'node:fs';
import { TraceReader, type TraceError } from '../trace/reader.ts';
import { SummaryBuilder, formatSummary } from '../trace/summary.ts';

const USAGE = `usage: vizor trace summary file.ndjson [--top N]
  summary   counts by kind, by exit reason and by VM, time in each VM and in the
            hypervisor, and the top faulting addresses (--top N of them, default 10)
`;

const EXIT_USAGE = 2;
const EXIT_BAD_FILE = 4;

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

type Parsed = { file: string; top: number } | { error: string };

function parseArgs(args: string[]): Parsed {
  const [sub, ...rest] = args;
  if (sub !== 'summary') return { error: sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'` };
  let file: string | undefined;
  let top = 10;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--top') {
      const n = Number(rest[++i]);
      if (!Number.isInteger(n) || n < 0) return { error: '--top needs a whole number' };
      top = n;
    } else if (a.startsWith('-')) {
      return { error: `unknown option '${a}'` };
    } else if (file === undefined) {
      file = a;
    } else {
      return { error: `unexpected argument '${a}'` };
    }
  }
  return file === undefined ? { error: 'missing trace file' } : { file, top };
}

export async function command(args: string[]): Promise<number> {
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write(USAGE);
    return 0;
  }
  const parsed = parseArgs(args);
  if ('error' in parsed) {
    process.stderr.write(`vizor trace: ${parsed.error}\n${USAGE}`);
    return EXIT_USAGE;
  }
  const { file, top } = parsed;
  const reader = new TraceReader();
  const summary = new SummaryBuilder();
  let error: TraceError | null = null;
  try {
    await eachLine(file, (text, endsFile) => {
      const r = reader.line(text, endsFile);
      if (r.type === 'error') error = r.error;
      else if (r.type === 'event') summary.add(r.event);
      return error === null;
    });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err instanceof Error ? err.message : String(err));
    process.stderr.write(`vizor trace: cannot read ${file}: ${why}\n`);
    return EXIT_BAD_FILE;
  }
  error ??= reader.finish();
  if (error) {
    const e: TraceError = error;
    process.stderr.write(`vizor trace: ${file}:${e.line}: ${e.message}\n`);
    return EXIT_BAD_FILE;
  }
  process.stdout.write(formatSummary(summary.result(), { file, params: reader.header?.params, top }));
  return 0;
}
