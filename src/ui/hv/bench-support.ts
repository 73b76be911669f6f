// Big traces for bench/viz.ts, made inside the page: a coherent scenario encoded into binary
// batches of 4096 events (what the worker sends, and what a binary trace file holds), then copied
// with shifted seq and tick until the wanted size, so 10 million events cost seconds, not minutes.
import { encodeBatch } from '../../trace/binary.ts';
import { encodeNdjson } from '../../trace/ndjson.ts';
import { parseTrace } from '../../trace/reader.ts';
import type { TraceEvent } from '../../trace/schema.ts';
import { BatchColumns } from './batch-columns.ts';
import { generateScenario } from './scenario.ts';
import type { RunInfo } from './types.ts';

export function makeBatches(total: number, paging: 'shadow' | 'nested' = 'shadow'): { batches: ArrayBuffer[]; info: RunInfo } {
  const base = generateScenario({ events: Math.min(total, 200_000), paging });
  const events = base.events.filter((e): e is TraceEvent => e.kind !== 'frame');
  const chunks: ArrayBuffer[] = [];
  for (let i = 0; i < events.length; i += 4096) chunks.push(encodeBatch(events.slice(i, i + 4096)));
  const tickSpan = events.at(-1)!.tick + 1000;
  const seqSpan = events.at(-1)!.seq + 1;
  const batches: ArrayBuffer[] = [];
  let made = 0;
  for (let copy = 0; made < total; copy++) {
    for (const chunk of chunks) {
      if (made >= total) break;
      const buf = copy === 0 ? chunk : chunk.slice(0);
      if (copy > 0) {
        const cols = new BatchColumns(buf);
        for (let i = 0; i < cols.count; i++) { cols.tick[i] = cols.tick[i]! + copy * tickSpan; cols.seq[i] = cols.seq[i]! + copy * seqSpan; }
      }
      batches.push(buf);
      made += new BatchColumns(buf).count;
    }
  }
  return { batches, info: base.info };
}

/** NDJSON parse throughput (events per second) with the schema's validating reader, for comparison. */
export function ndjsonRate(n: number): number {
  const events = generateScenario({ events: n, paging: 'shadow' }).events.filter((e): e is TraceEvent => e.kind !== 'frame');
  const text = encodeNdjson(events);
  const start = performance.now();
  const r = parseTrace(text);
  const ms = performance.now() - start;
  if (!r.ok) throw new Error(r.error.message);
  return r.events.length / (ms / 1000);
}
