// Helpers for golden traces and round-trip checks: record what an emitter sends while a run
// executes, check that NDJSON and binary batches give the events back unchanged, and produce the
// canonical NDJSON text a golden test compares with its file (toMatchFileSnapshot).
import { ALL_KINDS_MASK, type TraceEvent } from './schema.ts';
import type { Emitter } from './emitter.ts';
import { decodeBatch, encodeBatch } from './binary.ts';
import { encodeNdjson, eventLine, type TraceParams } from './ndjson.ts';
import { parseTrace } from './reader.ts';
import { validateEvent } from './validate.ts';

/** Every event `emitter` sends (of the kinds in `mask`) while `run` executes. */
export function captureEvents(
  emitter: Emitter,
  run: () => void,
  mask: number = ALL_KINDS_MASK,
): TraceEvent[] {
  const events: TraceEvent[] = [];
  const stop = emitter.listen({ mask, onEvent: (ev) => events.push(ev) });
  try {
    run();
  } finally {
    stop();
  }
  return events;
}

function sameEvents(label: string, want: readonly TraceEvent[], got: readonly TraceEvent[]): string | null {
  if (want.length !== got.length) return `${label}: ${got.length} events back, ${want.length} sent`;
  for (let i = 0; i < want.length; i++) {
    const a = want[i]!;
    const b = got[i]!;
    const keys = (e: TraceEvent) =>
      Object.keys(e).filter((k) => (e as unknown as Record<string, unknown>)[k] !== undefined).length;
    if (eventLine(a) !== eventLine(b) || keys(a) !== keys(b)) {
      return `${label}: event ${i} differs: sent ${eventLine(a)}, got ${eventLine(b)}`;
    }
  }
  return null;
}

/**
 * Checks that the events are valid and survive events -> NDJSON -> events and
 * events -> binary -> events unchanged. Returns null, or what differs first.
 */
export function checkRoundTrips(events: readonly TraceEvent[]): string | null {
  for (let i = 0; i < events.length; i++) {
    const v = validateEvent(JSON.parse(JSON.stringify(events[i])));
    if (!v.ok) return `event ${i} is not valid: ${v.error}`;
  }
  const parsed = parseTrace(encodeNdjson(events));
  if (!parsed.ok) return `NDJSON: line ${parsed.error.line}: ${parsed.error.message}`;
  return (
    sameEvents('NDJSON', events, parsed.events) ??
    sameEvents('binary', events, decodeBatch(encodeBatch(events)))
  );
}

export interface GoldenTrace {
  /** Canonical NDJSON, byte for byte what `vizor run --trace` writes for the same run. */
  text: string;
  events: TraceEvent[];
  /** null when both round trips give the events back unchanged. */
  roundTripError: string | null;
}

/**
 * Records a run for a golden test:
 *   const g = goldenTrace(machine.emitter, { kernel: 'hello' }, () => machine.run(1e6));
 *   expect(g.roundTripError).toBeNull();
 *   await expect(g.text).toMatchFileSnapshot('../../fixtures/traces/hello.ndjson');
 */
export function goldenTrace(
  emitter: Emitter,
  params: TraceParams,
  run: () => void,
  mask: number = ALL_KINDS_MASK,
): GoldenTrace {
  const events = captureEvents(emitter, run, mask);
  return { text: encodeNdjson(events, params), events, roundTripError: checkRoundTrips(events) };
}
