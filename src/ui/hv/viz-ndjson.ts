// Reading NDJSON traces for the viz: the schema's reader for every line, except the proposed
// 'frame' lines (see types.ts), which are checked here.
import { TraceReader } from '../../trace/reader.ts';
import type { ProposedFrameEvent, VizEvent } from './types.ts';

/**
 * NDJSON with the proposed 'frame' lines allowed (see types.ts): those are checked here, the rest
 * by the schema's own reader, so a bad line is reported with its number as the CLI would.
 */
export function parseVizNdjson(text: string): { ok: true; events: VizEvent[]; params: Record<string, unknown> } | { ok: false; error: string } {
  const reader = new TraceReader();
  const events: VizEvent[] = [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (reader.header && line.includes('"kind":"frame"')) {
      reader.lineNo++;
      const f = parseFrameLine(line);
      if (!f) return { ok: false, error: `line ${i + 1}: bad frame event` };
      events.push(f);
      continue;
    }
    const r = reader.line(line, i === lines.length - 1 && !text.endsWith('\n'));
    if (r.type === 'error') return { ok: false, error: `line ${r.error.line}: ${r.error.message}` };
    if (r.type === 'event') events.push(r.event);
  }
  const end = reader.finish();
  if (end) return { ok: false, error: `line ${end.line}: ${end.message}` };
  return { ok: true, events, params: reader.header?.params ?? {} };
}

function parseFrameLine(line: string): ProposedFrameEvent | null {
  try {
    const v = JSON.parse(line) as Record<string, unknown>;
    const num = (k: string): boolean => typeof v[k] === 'number' && Number.isInteger(v[k]);
    if (!['seq', 'tick', 'vm', 'vcpu', 'frame', 'count', 'ownerVm'].every(num)) return null;
    if (v.op !== 'alloc' && v.op !== 'free') return null;
    if (!['hypervisor', 'guest', 'shadow', 'nested'].includes(v.owner as string)) return null;
    return v as unknown as ProposedFrameEvent;
  } catch {
    return null;
  }
}
