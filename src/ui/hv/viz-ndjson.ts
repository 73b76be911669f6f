// Reading NDJSON traces for the viz with the schema's own reader, so a bad line is reported with
// its number as the CLI would ('frame' events are part of the schema now).
import { parseTrace } from '../../trace/reader.ts';
import type { VizEvent } from './types.ts';

export function parseVizNdjson(text: string): { ok: true; events: VizEvent[]; params: Record<string, unknown> } | { ok: false; error: string } {
  const r = parseTrace(text);
  if (!r.ok) return { ok: false, error: `line ${r.error.line}: ${r.error.message}` };
  return { ok: true, events: r.events, params: r.header.params };
}
