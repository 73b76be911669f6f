// Compares what a run produced with what check.json expects, and says so in words:
// "exit: expected debug-exit with code 0x10, but got triple-fault". Each expectation gives one
// finding, matched or not; a run passes when all of its findings match.
import { describeEvent, describeFilter, matchesFilter, resolveFilter, SpecError } from './predicates.ts';
import { describeCount, matchSequence, scoped } from './sequence.ts';
import type { Observation, VmEnd } from './runner.ts';
import type { CountExpectation, ExitExpectation, RunSpec, SequenceExpectation, SerialExpectation } from './types.ts';

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
