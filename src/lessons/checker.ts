// Compares what a run produced with what check.json expects, and says so in words:
// "exit: expected debug-exit with code 0x10, but got triple-fault". Each expectation gives one
// finding, matched or not; a run passes when all of its findings match.
import { describeEvent, describeFilter, matchesFilter, resolveFilter, SpecError } from './predicates.ts';
import { describeCount, matchSequence, scoped } from './sequence.ts';
import type { Observation, VmEnd } from './runner.ts';
import type { CountExpectation, CountSpec, ExitExpectation, MigrationExpectation, MigrationOutcome, RunSpec, SequenceExpectation, SerialExpectation } from './types.ts';

export interface Finding {
  ok: boolean;
  /** Where in check.json ("runs[0].expect.counts[1]"). */
  at: string;
  /** What matched, or "expected … but got …". */
  message: string;
}

const hex = (n: number) => '0x' + (n >>> 0).toString(16);

function describeEnd(e: VmEnd | undefined): string {
  if (!e) return 'no result for this VM';
  if (e.reason === 'debug-exit') return `debug-exit with code ${hex(e.code ?? 0)}`;
  return e.message ? `${e.reason} (${e.message})` : e.reason;
}

function checkExit(x: ExitExpectation, obs: Observation): Finding {
  const got = obs.ends[x.vm];
  const want = x.code === undefined ? x.reason : `debug-exit with code ${hex(x.code)}`;
  const vm = obs.ends.length > 1 ? `VM ${x.vm} ` : '';
  const ok = got !== undefined && got.reason === x.reason && (x.code === undefined || got.code === x.code);
  return ok
    ? { ok, at: x.at, message: `${vm}ended with ${describeEnd(got)}` }
    : { ok, at: x.at, message: `${vm}exit: expected ${want}, but got ${describeEnd(got)}` };
}

/** The last few lines, for context in messages. */
function tail(text: string, n = 6): string {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const shown = lines.slice(-n).map((l) => `    | ${l}`);
  return lines.length === 0 ? '    (no serial output at all)' : `${lines.length > n ? '    | ...\n' : ''}${shown.join('\n')}`;
}

function checkSerial(x: SerialExpectation, obs: Observation): Finding[] {
  const out = obs.serial[x.vm] ?? '';
  const vm = obs.serial.length > 1 ? `VM ${x.vm} ` : '';
  const findings: Finding[] = [];
  const push = (ok: boolean, message: string) => findings.push({ ok, at: x.at, message: `${vm}serial: ${message}` });
  if (x.equals !== undefined) {
    if (out === x.equals) push(true, `the output is exactly as expected (${out.length} characters)`);
    else {
      const want = x.equals.split('\n');
      const got = out.split('\n');
      let i = 0;
      while (i < want.length && i < got.length && want[i] === got[i]) i++;
      const w = i < want.length ? JSON.stringify(want[i]) : 'the end of the output';
      const g = i < got.length ? JSON.stringify(got[i]) : 'the end of the output';
      push(false, `expected line ${i + 1} to be ${w}, but got ${g}`);
    }
  }
  if (x.lines) {
    const got = out.split('\n').map((l) => l.replace(/\r$/, ''));
    let pos = 0;
    let missing: string | null = null;
    let after = '';
    for (const line of x.lines) {
      const found = got.indexOf(line, pos);
      if (found < 0) {
        missing = line;
        break;
      }
      after = line;
      pos = found + 1;
    }
    if (missing === null) push(true, `all ${x.lines.length} expected lines came, in order`);
    else {
      const where = after === '' ? '' : ` after the line ${JSON.stringify(after)}`;
      const anywhere = got.includes(missing) ? ' (it came, but out of order)' : '';
      push(false, `expected the line ${JSON.stringify(missing)}${where}, but it never came${anywhere}; the output ended with:\n${tail(out)}`);
    }
  }
  for (const text of x.contains ?? []) {
    if (out.includes(text)) push(true, `contains ${JSON.stringify(text)}`);
    else push(false, `expected the output to contain ${JSON.stringify(text)}, but it does not; it ended with:\n${tail(out)}`);
  }
  for (const text of x.excludes ?? []) {
    if (!out.includes(text)) push(true, `does not contain ${JSON.stringify(text)}`);
    else push(false, `expected no ${JSON.stringify(text)} in the output, but got it at character ${out.indexOf(text)}`);
  }
  return findings;
}

function checkCount(x: CountExpectation, obs: Observation): Finding {
  const hits = obs.events.filter((ev) => matchesFilter(x, ev));
  const ok = hits.length >= x.count.min && hits.length <= x.count.max;
  const what = `${describeCount(x.count)} × ${describeFilter(x)}`;
  if (ok) return { ok, at: x.at, message: `${what}: got ${hits.length}` };
  const shown = hits.slice(0, 4).map((ev) => `    ${describeEvent(ev)}`);
  const more = hits.length > 4 ? `\n    ... ${hits.length - 4} more` : '';
  const sameKind = obs.events.filter((ev) => ev.kind === x.kind).length;
  const context = hits.length === 0 ? ` (${sameKind} ${x.kind} event${sameKind === 1 ? '' : 's'} in all)` : `:\n${shown.join('\n')}${more}`;
  return { ok, at: x.at, message: `expected ${what}, but got ${hits.length}${context}` };
}

function checkSequence(x: SequenceExpectation, obs: Observation): Finding {
  const r = matchSequence(scoped(obs.events, x.scope), x.steps, x.whole);
  return r.ok
    ? { ok: true, at: x.at, message: `sequence '${x.name}': all ${x.steps.length} steps matched` }
    : { ok: false, at: x.at, message: `sequence '${x.name}': ${r.message}` };
}

const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;
const SWITCHOVER_WORDS: Record<string, string> = {
  converged: 'converged (the dirty pages fit the downtime limit)',
  'round-limit': 'round-limit (the guest dirtied pages faster than the link sent them)',
  postcopy: 'postcopy',
  'source-ended': 'source-ended (the guest ended during pre-copy)',
};

function inRange(n: number, r: CountSpec): boolean {
  return n >= r.min && n <= r.max;
}

function describeRange(r: CountSpec, unit: (n: number) => string): string {
  if (r.min === r.max) return `exactly ${unit(r.min)}`;
  if (r.max === Infinity) return `at least ${unit(r.min)}`;
  if (r.min === 0) return `at most ${unit(r.max)}`;
  return `between ${unit(r.min)} and ${unit(r.max)}`;
}

/** The rounds in a few words, for context: "round 0: 140 sent, 35 dirtied; round 1: 35 sent, 9 dirtied". */
function roundsText(m: MigrationOutcome): string {
  if (m.rounds.length === 0) return 'no pre-copy rounds';
  return m.rounds.map((r, i) => `round ${i}: ${r.pagesSent} sent, ${r.dirtyAfter} dirtied`).join('; ');
}

function checkMigration(x: MigrationExpectation, obs: Observation): Finding[] {
  const m = obs.migration;
  if (m === undefined || !m.happened) {
    return [{ ok: false, at: x.at, message: `migration: expected a migration, but ${m?.why ?? 'the runner did not migrate the VM'}` }];
  }
  const out: Finding[] = [];
  const add = (ok: boolean, what: string, got: string) => out.push({ ok, at: x.at, message: ok ? `migration: ${got}` : `migration: expected ${what}, but got ${got}` });
  const count = (n: number, r: CountSpec | undefined, noun: string, context = '') => {
    if (r !== undefined) add(inRange(n, r), `${describeRange(r, String)} ${noun}`, `${n} ${noun}${context}`);
  };
  if (x.switchover !== undefined) add(m.switchover === x.switchover, `switch-over ${x.switchover}`, `switch-over ${SWITCHOVER_WORDS[m.switchover ?? ''] ?? m.switchover}`);
  count(m.rounds.length, x.rounds, 'pre-copy rounds', ` (${roundsText(m)})`);
  if (x.downtimeNs !== undefined) {
    add(m.downtimeNs >= x.downtimeNs.min && m.downtimeNs <= x.downtimeNs.max, `downtime ${describeRange(x.downtimeNs, ms)}`,
      `downtime ${ms(m.downtimeNs)} (${m.finalPages} pages in the stop-and-copy, switch-over ${m.switchover})`);
  }
  count(m.pagesSent, x.pagesSent, 'pages sent over the link');
  count(m.finalPages, x.finalPages, 'pages in the stop-and-copy');
  count(m.remoteFaults, x.remoteFaults, 'remote faults');
  if (x.checksumsEqual !== undefined) {
    const equal = m.sourceChecksum !== undefined && m.sourceChecksum === m.destChecksum;
    const got = m.sourceChecksum === undefined ? 'no checksums (no pre-copy switch-over)'
      : `guest memory checksums ${hex(m.sourceChecksum)} on the source and ${hex(m.destChecksum ?? 0)} on the destination${equal ? ' (equal: no page lost)' : ''}`;
    add(equal === x.checksumsEqual, x.checksumsEqual ? 'equal guest memory checksums on both hosts' : 'different checksums', got);
  }
  return out;
}

/** Every finding of one run. */
export function evaluateRun(spec: RunSpec, obs: Observation): Finding[] {
  let run: RunSpec;
  try {
    run = withSymbols(spec, obs.symbols);
  } catch (err) {
    if (err instanceof SpecError) return [{ ok: false, at: err.at, message: `${err.at}: ${err.problem}` }];
    throw err;
  }
  const findings: Finding[] = [
    ...run.expect.exit.map((x) => checkExit(x, obs)),
    ...run.expect.serial.flatMap((x) => checkSerial(x, obs)),
    ...run.expect.counts.map((x) => checkCount(x, obs)),
    ...run.expect.sequences.map((x) => checkSequence(x, obs)),
    ...(run.expect.migration ? checkMigration(run.expect.migration, obs) : []),
  ];
  if (obs.truncated) findings.push({ ok: false, at: run.at, message: 'too many events to keep: narrow the kinds the check looks at' });
  return findings;
}

/** The run with every "@label" value replaced by the label's address. */
export function withSymbols(run: RunSpec, symbols: ReadonlyMap<string, number>): RunSpec {
  const e = run.expect;
  return {
    ...run,
    expect: {
      ...e,
      counts: e.counts.map((c) => resolveFilter(c, symbols, c.at)),
      sequences: e.sequences.map((s) => ({
        ...s,
        scope: s.scope.map((f, i) => resolveFilter(f, symbols, `${s.at}.scope[${i}]`)),
        steps: s.steps.map((f, i) => resolveFilter(f, symbols, `${s.at}.steps[${i}]`)),
      })),
    },
  };
}
