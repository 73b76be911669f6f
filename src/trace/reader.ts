// The trace-file reader: validates NDJSON traces line by line and rejects anything corrupt with
// the line number and what is wrong. It never throws: every failure is a TraceError value.
// Feed lines one at a time (TraceReader, for big files streamed by the CLI) or a whole text
// (parseTrace).
import { SCHEMA_VERSION, type TraceEvent } from './schema.ts';
import { HEADER_KEY, type TraceParams } from './ndjson.ts';
import { validateEvent } from './validate.ts';

export interface TraceHeader {
  version: number;
  params: TraceParams;
}

export interface TraceError {
  /** 1-based line number in the file. */
  line: number;
  message: string;
}

export type LineResult =
  | { type: 'header'; header: TraceHeader }
  | { type: 'event'; event: TraceEvent }
  | { type: 'error'; error: TraceError };

export type ParseResult =
  { ok: true; header: TraceHeader; events: TraceEvent[] } | { ok: false; error: TraceError };

function parseJson(text: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export class TraceReader {
  header: TraceHeader | null = null;
  /** Lines consumed so far. */
  lineNo = 0;
  events = 0;
  private lastSeq = -1;

  /**
   * Reads the next line (without its '\n'). `endsFile` = it is the last line and had no newline,
   * so a line that is not valid JSON was cut short rather than garbled.
   */
  line(text: string, endsFile = false): LineResult {
    this.lineNo++;
    try {
      let line = text.endsWith('\r') ? text.slice(0, -1) : text;
      if (this.lineNo === 1 && line.startsWith('\uFEFF')) line = line.slice(1); // a BOM from an editor
      return this.read(line, endsFile);
    } catch (err) {
      // Not expected; still a value, never an exception, for the caller.
      return this.fail(`cannot read this line (${err instanceof Error ? err.message : String(err)})`);
    }
  }

  /** Call after the last line: reports an empty file. */
  finish(): TraceError | null {
    return this.header === null
      ? { line: 1, message: 'empty file: a vizor trace starts with a header line' }
      : null;
  }

  private fail(message: string): LineResult {
    return { type: 'error', error: { line: this.lineNo, message } };
  }

  private read(text: string, endsFile: boolean): LineResult {
    if (text.trim() === '')
      return this.fail(this.lineNo === 1 ? 'empty first line: expected the trace header' : 'empty line');
    const parsed = parseJson(text);
    if ('error' in parsed) {
      if (endsFile) return this.fail('truncated line: the file ends in the middle of an event');
      return this.fail(`bad JSON (${parsed.error})`);
    }
    if (this.header === null) return this.readHeader(parsed.value);
    const v = validateEvent(parsed.value);
    if (!v.ok) return this.fail(v.error);
    if (v.event.seq <= this.lastSeq) {
      return this.fail(`seq ${v.event.seq} is not greater than the previous event's seq ${this.lastSeq}`);
    }
    this.lastSeq = v.event.seq;
    this.events++;
    return { type: 'event', event: v.event };
  }

  private readHeader(value: unknown): LineResult {
    if (!isObject(value) || !(HEADER_KEY in value)) {
      const looksLikeEvent = isObject(value) && 'kind' in value;
      return this.fail(
        `${looksLikeEvent ? 'missing header' : 'not a vizor trace'}: the first line must be {"${HEADER_KEY}":${SCHEMA_VERSION},"params":{...}}`,
      );
    }
    const version = value[HEADER_KEY];
    if (typeof version !== 'number' || !Number.isInteger(version)) {
      return this.fail(
        `bad header: "${HEADER_KEY}" must be the schema version number, got ${JSON.stringify(version)}`,
      );
    }
    if (version !== SCHEMA_VERSION) {
      return this.fail(`trace schema version ${version}, but this vizor reads version ${SCHEMA_VERSION}`);
    }
    const params = value.params ?? {};
    if (!isObject(params)) return this.fail('bad header: "params" must be an object');
    this.header = { version, params };
    return { type: 'header', header: this.header };
  }
}

/** Validates a whole trace text; the first problem found is reported. */
export function parseTrace(text: string): ParseResult {
  const reader = new TraceReader();
  const events: TraceEvent[] = [];
  if (text.length > 0) {
    const lines = text.split('\n');
    const endsWithNewline = lines[lines.length - 1] === '';
    if (endsWithNewline) lines.pop();
    for (let i = 0; i < lines.length; i++) {
      const r = reader.line(lines[i]!, !endsWithNewline && i === lines.length - 1);
      if (r.type === 'error') return { ok: false, error: r.error };
      if (r.type === 'event') events.push(r.event);
    }
  }
  const end = reader.finish();
  if (end) return { ok: false, error: end };
  return { ok: true, header: reader.header!, events };
}
