// NDJSON, the on-disk format: a header line {"vizor-trace":SCHEMA_VERSION,"params":{...}} then
// one event per line, fields in canonical order (base fields, then FIELD_SPECS order), so the
// same run always gives the same bytes. Produces strings only; the CLI writes the files.
import { FIELD_SPECS, SCHEMA_VERSION, type TraceEvent } from './schema.ts';

/** Run parameters recorded in the header (kernel, mode, VMs, ...); any JSON-able values. */
export type TraceParams = Record<string, unknown>;

export const HEADER_KEY = 'vizor-trace';

export function headerLine(params: TraceParams = {}): string {
  return JSON.stringify({ [HEADER_KEY]: SCHEMA_VERSION, params });
}

/** One event as a line of JSON (without the newline), in canonical field order. */
export function eventLine(ev: TraceEvent): string {
  const rec = ev as unknown as Record<string, unknown>;
  const ordered: Record<string, unknown> = {
    seq: ev.seq,
    tick: ev.tick,
    vm: ev.vm,
    vcpu: ev.vcpu,
    kind: ev.kind,
  };
  for (const name of Object.keys(FIELD_SPECS[ev.kind])) {
    const v = rec[name];
    if (v !== undefined) ordered[name] = v;
  }
  return JSON.stringify(ordered);
}

/** A whole trace file as one string (fine for tests and golden files; sinks stream instead). */
export function encodeNdjson(events: Iterable<TraceEvent>, params: TraceParams = {}): string {
  const lines = [headerLine(params)];
  for (const ev of events) lines.push(eventLine(ev));
  return lines.join('\n') + '\n';
}

/** Gathers small strings into chunks of about `chunkBytes` before handing them to `write`. */
export class ChunkedWriter {
  private parts: string[] = [];
  private length = 0;

  constructor(
    private readonly write: (chunk: string) => void,
    private readonly chunkBytes = 64 * 1024,
  ) {}

  add(text: string): void {
    this.parts.push(text);
    this.length += text.length;
    if (this.length >= this.chunkBytes) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const chunk = this.parts.join('');
    this.parts = [];
    this.length = 0;
    this.write(chunk);
  }
}
