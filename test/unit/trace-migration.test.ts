// The 'migration' event kind end to end: the synthetic stream carries it (so the round-trip tests
// cover it), and `vizor migrate --trace` writes one valid NDJSON stream of both hosts whose
// migration events are exactly the engine's (--events), whose console text is the guest's whole
// serial output across the move, and which the summary and the Perfetto converter read back.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/migrate.ts';
import { parseTrace } from '../../src/trace/reader.ts';
import { checkRoundTrips } from '../../src/trace/capture.ts';
import { summarize } from '../../src/trace/summary.ts';
import { checkChromeTrace, toPerfetto, MIGRATION_TID } from '../../src/trace/perfetto.ts';
import { syntheticEvents } from '../../src/trace/synthetic.ts';
import type { EventOf, TraceEvent } from '../../src/trace/schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-trace-migration-'));

async function migrate(name: string, extra: string[]) {
  const trace = join(dir, `${name}.ndjson`), events = join(dir, `${name}.events`);
  let stdout = '';
  const status = await command(['fixtures/migration/writer.asm', '--at', '11M', '--max-downtime', '5ms', '--trace', trace, '--events', events, ...extra], {
    stdout: (t) => { stdout += t; }, stderr: () => {},
  });
  const parsed = parseTrace(readFileSync(trace, 'utf8'));
  if (!parsed.ok) throw new Error(`line ${parsed.error.line}: ${parsed.error.message}`);
  const engine = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phase: string; timeNs: number; round: number; pages: number; bytes: number; downtimeNs?: number });
  return { status, stdout, events: parsed.events, params: parsed.header.params, engine };
}

const migrations = (evs: readonly TraceEvent[]) => evs.filter((e): e is EventOf<'migration'> => e.kind === 'migration');

describe('the migration kind', () => {
  it('appears in the synthetic stream, which survives NDJSON and binary round trips', () => {
    const evs = syntheticEvents({ count: 4000, seed: 11 });
    const ms = migrations(evs);
    expect(ms.length).toBeGreaterThan(50);
    expect(new Set(ms.map((e) => e.phase)).size).toBe(9);
    expect(checkRoundTrips(evs)).toBeNull();
  });
});

describe.concurrent('vizor migrate --trace', () => {
  for (const mode of ['precopy', 'postcopy'] as const) {
    it(`${mode}: one stream of both hosts, events as the engine's, console continuous`, async () => {
      const r = await migrate(mode, mode === 'postcopy' ? ['--postcopy', '--bandwidth', '10M'] : []);
      expect(r.status).toBe(69);
      expect(r.params).toMatchObject({ command: 'migrate', migration: mode, hosts: ['A', 'B'] });
      expect(checkRoundTrips(r.events)).toBeNull();
      for (let i = 1; i < r.events.length; i++) {
        expect(r.events[i]!.seq).toBeGreaterThan(r.events[i - 1]!.seq);
        expect(r.events[i]!.tick).toBeGreaterThanOrEqual(r.events[i - 1]!.tick);
      }
      const ms = migrations(r.events);
      expect(ms.map((e) => [e.phase, Math.round(e.round), e.pages, e.bytes, e.timeUs])).toEqual(
        r.engine.map((e) => [e.phase, e.round, e.pages, e.bytes, Math.round(e.timeNs / 1000)]),
      );
      const text = r.events.map((e) => (e.kind === 'console' ? e.text : '')).join('');
      expect(text).toBe(r.stdout);
      expect(text).toBe(readFileSync('fixtures/migration/writer.expected.txt', 'latin1'));
      // The guest printed on both sides of the move.
      const resumeAt = r.events.findIndex((e) => e.kind === 'migration' && e.phase === 'resume');
      expect(r.events.slice(0, resumeAt).some((e) => e.kind === 'console')).toBe(true);
      expect(r.events.slice(resumeAt).some((e) => e.kind === 'console')).toBe(true);

      const s = summarize(r.events).migration!;
      const up = r.engine.find((e) => e.phase === 'downtime-end')!;
      expect(s.mode).toBe(mode);
      expect(s.rounds).toBe(r.engine.filter((e) => e.phase === 'round-start').length);
      expect(Math.abs(s.downtimeUs! - up.downtimeNs! / 1000)).toBeLessThanOrEqual(1);
      expect(s.bytes).toBe(r.engine[r.engine.length - 1]!.bytes);

      const chrome = toPerfetto(r.events);
      expect(checkChromeTrace(chrome)).toEqual([]);
      const slices = chrome.traceEvents.filter((e) => e.tid === MIGRATION_TID && e.ph === 'X');
      expect(slices.filter((e) => e.name.startsWith('round ')).length).toBe(s.rounds);
      const downtime = slices.find((e) => e.name === 'downtime')!;
      expect(Math.abs(downtime.dur! - (up.downtimeNs! / 32))).toBeLessThanOrEqual(64);
    });
  }
});
