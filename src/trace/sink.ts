// Trace sinks for the CLI (`vizor run --trace out.ndjson --trace-kinds exit,pagefault`,
// `--perfetto out.json`): an emitter listener that turns events into text chunks for a
// `write(chunk)` callback. No Node APIs here; the CLI passes a function that writes the file.
//
//   const sink = createTraceSink({ format: 'ndjson', kinds: ['exit'], params, write: (s) => fs.writeSync(fd, s) });
//   const stop = machine.emitter.listen(sink.listener);
//   machine.run(); stop(); sink.close();
import { ALL_KINDS_MASK, maskOf, type EventKind, type TraceEvent } from './schema.ts';
import type { Listener } from './emitter.ts';
import { ChunkedWriter, eventLine, headerLine, type TraceParams } from './ndjson.ts';
import { PerfettoConverter, perfettoEnvelope, type ChromeEvent } from './perfetto.ts';
import { encodeBatch } from './binary.ts';
import { TRACE_FILE_EXTENSION, traceFileHeader, traceFileRecord } from './file.ts';

export type TraceFormat = 'ndjson' | 'perfetto' | 'binary';

/** The format a trace file name asks for: .vzt = binary (file.ts), anything else NDJSON. */
export function traceFormatFor(path: string): 'ndjson' | 'binary' {
  return path.toLowerCase().endsWith(TRACE_FILE_EXTENSION) ? 'binary' : 'ndjson';
}

export interface TraceSinkOptions {
  format: TraceFormat;
  /** Only these kinds (default: all). */
  kinds?: readonly EventKind[];
  /** Only this VM (default: all, hypervisor included). */
  vm?: number;
  /** Run parameters for the header (NDJSON) or otherData (Perfetto). */
  params?: TraceParams;
  write: (chunk: string) => void;
  /** Where the 'binary' format's bytes go (required for it; the text formats use `write`). */
  writeBytes?: (chunk: Uint8Array) => void;
  /** Events per record of the 'binary' format (default 65536). */
  batchEvents?: number;
  /** Bytes gathered before each write (default 64 KiB). */
  chunkBytes?: number;
}

export interface TraceSink {
  listener: Listener;
  /** Events written so far. */
  readonly count: number;
  /** Flushes everything (and closes the JSON for Perfetto). Call once, after the run. */
  close(): void;
}

export function createTraceSink(opts: TraceSinkOptions): TraceSink {
  const out = new ChunkedWriter(opts.write, opts.chunkBytes);
  const mask = opts.kinds ? maskOf(opts.kinds) : ALL_KINDS_MASK;
  const params = opts.params ?? {};
  let count = 0;
  let closed = false;
  let onEvent: (ev: TraceEvent) => void;
  let finish: () => void;

  if (opts.format === 'binary') {
    const writeBytes = opts.writeBytes;
    if (!writeBytes) throw new Error("trace sink: the 'binary' format needs writeBytes");
    const max = opts.batchEvents ?? 65536;
    let pending: TraceEvent[] = [];
    const flushBatch = (): void => {
      if (pending.length === 0) return;
      writeBytes(traceFileRecord(encodeBatch(pending), pending.length));
      pending = [];
    };
    writeBytes(traceFileHeader(params));
    onEvent = (ev) => {
      pending.push(ev);
      if (pending.length >= max) flushBatch();
    };
    finish = flushBatch;
  } else if (opts.format === 'ndjson') {
    out.add(headerLine(params) + '\n');
    onEvent = (ev) => out.add(eventLine(ev) + '\n');
    finish = () => {};
  } else {
    const conv = new PerfettoConverter();
    const { displayTimeUnit, otherData } = perfettoEnvelope(params);
    out.add(
      `{"displayTimeUnit":${JSON.stringify(displayTimeUnit)},"otherData":${JSON.stringify(otherData)},"traceEvents":[`,
    );
    let first = true;
    const emit = (list: ChromeEvent[]): void => {
      for (const e of list) {
        out.add((first ? '\n' : ',\n') + JSON.stringify(e));
        first = false;
      }
    };
    onEvent = (ev) => emit(conv.push(ev));
    finish = () => {
      emit(conv.finish());
      out.add('\n]}\n');
    };
  }

  const listener: Listener = {
    mask,
    onEvent: (ev) => {
      if (closed) return;
      count++;
      onEvent(ev);
    },
  };
  if (opts.vm !== undefined) listener.vm = opts.vm;
  return {
    listener,
    get count() {
      return count;
    },
    close() {
      if (closed) return;
      closed = true;
      finish();
      out.flush();
    },
  };
}
