// check.json → CheckSpec. Every problem is a LessonFormatError naming the file and the field
// ("runs[0].expect.counts[1].where.outcome: "hiden" is not one of ...").
import { parseBandwidth, parseDuration } from '../migration/link.ts';
import { HV_DEFAULTS, hvSettings } from './meta.ts';
import { parseFilter, SpecError, toNumber } from './predicates.ts';
import {
  LessonFormatError,
  type CheckSpec,
  type CountSpec,
  type EndReason,
  type ExitExpectation,
  type LessonMeta,
  type MigrateSpec,
  type MigrationExpectation,
  type RangeSpec,
  type RunSpec,
  type Switchover,
  type SequenceExpectation,
  type SerialExpectation,
  type VmSpec,
} from './types.ts';

type Obj = Record<string, unknown>;

function object(v: unknown, at: string, known: readonly string[]): Obj {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new SpecError(at, 'must be an object');
  for (const key of Object.keys(v)) {
    if (!known.includes(key)) throw new SpecError(`${at}${at ? '.' : ''}${key}`, `unknown field (known: ${known.join(', ')})`);
  }
  return v as Obj;
}

function list(v: unknown, at: string): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw new SpecError(at, 'must be a list [...]');
  return v;
}

/** One object or a list of them. */
function oneOrMany(v: unknown, at: string): { value: unknown; at: string }[] {
  if (v === undefined) return [];
  if (Array.isArray(v)) return v.map((value, i) => ({ value, at: `${at}[${i}]` }));
  return [{ value: v, at }];
}

function text(v: unknown, at: string): string {
  if (typeof v !== 'string' || v === '') throw new SpecError(at, 'must be text');
  return v;
}

function texts(v: unknown, at: string): string[] | undefined {
  if (v === undefined) return undefined;
  const items = list(v, at);
  return items.map((s, i) => {
    if (typeof s !== 'string') throw new SpecError(`${at}[${i}]`, 'must be text');
    return s;
  });
}

function wholeNumber(v: unknown, at: string, min = 0): number {
  const n = toNumber(v);
  if (n === undefined || n < min) throw new SpecError(at, `must be a whole number${min > 0 ? ` >= ${min}` : ''} (or "0x..." text), got ${JSON.stringify(v)}`);
  return n;
}

/** 3, {"min": 1}, {"max": 0}, {"min": 2, "max": 5} */
function countSpec(v: unknown, at: string, fallback?: CountSpec): CountSpec {
  if (v === undefined && fallback) return fallback;
  if (v === undefined) throw new SpecError(at, 'missing: how many (a number, or {"min": ..., "max": ...})');
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const o = object(v, at, ['min', 'max']);
    const min = o.min === undefined ? 0 : wholeNumber(o.min, `${at}.min`);
    const max = o.max === undefined ? Infinity : wholeNumber(o.max, `${at}.max`);
    if (o.min === undefined && o.max === undefined) throw new SpecError(at, 'give min, max or both');
    if (max < min) throw new SpecError(at, `max ${max} is below min ${min}`);
    return { min, max };
  }
  const n = wholeNumber(v, at);
  return { min: n, max: n };
}

const END_REASONS: readonly EndReason[] = ['debug-exit', 'triple-fault', 'instruction-limit', 'halted'];

function exitExpectation(v: unknown, at: string): ExitExpectation {
  const o = object(v, at, ['reason', 'code', 'vm']);
  const reason = o.reason;
  if (typeof reason !== 'string' || !(END_REASONS as readonly string[]).includes(reason)) throw new SpecError(`${at}.reason`, `${JSON.stringify(reason)} is not one of ${END_REASONS.join(', ')}`);
  const e: ExitExpectation = { vm: o.vm === undefined ? 0 : wholeNumber(o.vm, `${at}.vm`), at, reason: reason as EndReason };
  if (o.code !== undefined) {
    if (reason !== 'debug-exit') throw new SpecError(`${at}.code`, 'only a debug-exit has a code');
    e.code = wholeNumber(o.code, `${at}.code`);
    if (e.code > 0xff) throw new SpecError(`${at}.code`, 'the debug-exit port takes one byte (0..0xff)');
  }
  return e;
}

function serialExpectation(v: unknown, at: string): SerialExpectation {
  const o = object(v, at, ['vm', 'equals', 'lines', 'contains', 'excludes']);
  const s: SerialExpectation = { vm: o.vm === undefined ? 0 : wholeNumber(o.vm, `${at}.vm`), at };
  if (o.equals !== undefined) {
    if (typeof o.equals !== 'string') throw new SpecError(`${at}.equals`, 'must be text');
    s.equals = o.equals;
  }
  const lines = texts(o.lines, `${at}.lines`);
  const contains = texts(o.contains, `${at}.contains`);
  const excludes = texts(o.excludes, `${at}.excludes`);
  if (lines) s.lines = lines;
  if (contains) s.contains = contains;
  if (excludes) s.excludes = excludes;
  if (s.equals === undefined && !lines && !contains && !excludes) throw new SpecError(at, 'says nothing: give equals, lines, contains or excludes');
  return s;
}

function sequenceExpectation(v: unknown, at: string, index: number): SequenceExpectation {
  const o = object(v, at, ['name', 'scope', 'steps', 'whole']);
  const steps = list(o.steps, `${at}.steps`).map((s, i) => {
    const f = parseFilter(s, `${at}.steps[${i}]`, ['count']);
    return { ...f, count: countSpec((s as Obj).count, `${at}.steps[${i}].count`, { min: 1, max: 1 }) };
  });
  if (steps.length === 0) throw new SpecError(`${at}.steps`, 'a sequence needs at least one step');
  if (steps[0]!.count.min === 0) throw new SpecError(`${at}.steps[0].count`, 'the first step must match at least one event');
  const scope = o.scope === undefined
    ? [...new Set(steps.map((s) => s.kind))].map((kind) => ({ kind, where: {} }))
    : list(o.scope, `${at}.scope`).map((f, i) => parseFilter(f, `${at}.scope[${i}]`));
  if (scope.length === 0) throw new SpecError(`${at}.scope`, 'an empty scope has no events');
  if (o.whole !== undefined && typeof o.whole !== 'boolean') throw new SpecError(`${at}.whole`, 'must be true or false');
  return { name: o.name === undefined ? `sequence ${index + 1}` : text(o.name, `${at}.name`), at, scope, steps, whole: o.whole === true };
}

/** 6000000, "6M", "200k", "0x100000". */
function countWithSuffix(v: unknown, at: string): number {
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([kM])\s*$/.exec(v) : null;
  if (m) return Math.round(Number(m[1]) * (m[2] === 'k' ? 1e3 : 1e6));
  return wholeNumber(v, at, 1);
}

/** "1ms", "250us", "2s", "100ns" (a unit is required: a bare number would be ambiguous). */
function duration(v: unknown, at: string): number {
  const ns = typeof v === 'string' && /[a-zµ]\s*$/i.test(v) ? parseDuration(v) : null;
  if (ns === null) throw new SpecError(at, `must be a time with its unit such as "1ms", "250us" or "2s", got ${JSON.stringify(v)}`);
  return ns;
}

function migrateSpec(v: unknown, at: string): MigrateSpec {
  const o = object(v, at, ['at', 'bandwidth', 'latency', 'mode', 'maxRounds', 'maxDowntime']);
  if (o.at === undefined) throw new SpecError(`${at}.at`, 'missing: after how many of the guest\'s instructions the migration starts (e.g. "6M")');
  const bandwidth = o.bandwidth === undefined ? 100e6 : typeof o.bandwidth === 'string' ? parseBandwidth(o.bandwidth) : null;
  if (bandwidth === null) throw new SpecError(`${at}.bandwidth`, `must be a rate in bits/s such as "100M" or "1G", got ${JSON.stringify(o.bandwidth)}`);
  if (o.mode !== undefined && o.mode !== 'precopy' && o.mode !== 'postcopy') throw new SpecError(`${at}.mode`, `${JSON.stringify(o.mode)} is not one of "precopy", "postcopy"`);
  const spec: MigrateSpec = {
    at: countWithSuffix(o.at, `${at}.at`),
    bandwidthBitsPerSecond: bandwidth,
    latencyNs: o.latency === undefined ? 1e6 : duration(o.latency, `${at}.latency`),
    mode: (o.mode as MigrateSpec['mode'] | undefined) ?? 'precopy',
  };
  if (o.maxRounds !== undefined) spec.maxRounds = wholeNumber(o.maxRounds, `${at}.maxRounds`, 1);
  if (o.maxDowntime !== undefined) spec.maxDowntimeNs = duration(o.maxDowntime, `${at}.maxDowntime`);
  if (spec.mode === 'postcopy' && (spec.maxRounds !== undefined || spec.maxDowntimeNs !== undefined)) {
    throw new SpecError(`${at}.${spec.maxRounds !== undefined ? 'maxRounds' : 'maxDowntime'}`, 'post-copy has no pre-copy rounds: this applies to "mode": "precopy" only');
  }
  return spec;
}

const SWITCHOVERS: readonly Switchover[] = ['converged', 'round-limit', 'postcopy', 'source-ended'];

/** {"min": "1ms", "max": "5ms"} (either end may be left out). */
function durationRange(v: unknown, at: string): RangeSpec {
  const o = object(v, at, ['min', 'max']);
  if (o.min === undefined && o.max === undefined) throw new SpecError(at, 'give min, max or both, e.g. {"max": "5ms"}');
  const r = { min: o.min === undefined ? 0 : duration(o.min, `${at}.min`), max: o.max === undefined ? Infinity : duration(o.max, `${at}.max`) };
  if (r.max < r.min) throw new SpecError(at, 'max is below min');
  return r;
}

function migrationExpectation(v: unknown, at: string, migrate: MigrateSpec | undefined): MigrationExpectation {
  if (migrate === undefined) throw new SpecError(at, 'expects a migration, but this run has no "migrate": {...}');
  const o = object(v, at, ['switchover', 'rounds', 'downtime', 'pagesSent', 'finalPages', 'remoteFaults', 'checksumsEqual']);
  const x: MigrationExpectation = { at };
  if (o.switchover !== undefined) {
    if (!(SWITCHOVERS as readonly unknown[]).includes(o.switchover)) throw new SpecError(`${at}.switchover`, `${JSON.stringify(o.switchover)} is not one of ${SWITCHOVERS.join(', ')}`);
    x.switchover = o.switchover as Switchover;
  }
  const precopyOnly = (field: string) => {
    if (migrate.mode !== 'precopy') throw new SpecError(`${at}.${field}`, 'only a pre-copy migration has this (the run migrates by post-copy)');
  };
  if (o.rounds !== undefined) { precopyOnly('rounds'); x.rounds = countSpec(o.rounds, `${at}.rounds`); }
  if (o.finalPages !== undefined) { precopyOnly('finalPages'); x.finalPages = countSpec(o.finalPages, `${at}.finalPages`); }
  if (o.downtime !== undefined) x.downtimeNs = durationRange(o.downtime, `${at}.downtime`);
  if (o.pagesSent !== undefined) x.pagesSent = countSpec(o.pagesSent, `${at}.pagesSent`);
  if (o.remoteFaults !== undefined) {
    if (migrate.mode !== 'postcopy') throw new SpecError(`${at}.remoteFaults`, 'only a post-copy migration fetches pages on fault');
    x.remoteFaults = countSpec(o.remoteFaults, `${at}.remoteFaults`);
  }
  if (o.checksumsEqual !== undefined) {
    precopyOnly('checksumsEqual');
    if (typeof o.checksumsEqual !== 'boolean') throw new SpecError(`${at}.checksumsEqual`, 'must be true or false');
    x.checksumsEqual = o.checksumsEqual;
  }
  if (Object.keys(x).length === 1) throw new SpecError(at, 'says nothing: give switchover, rounds, downtime, pagesSent, finalPages, remoteFaults or checksumsEqual');
  return x;
}

function vmSpecs(o: Obj, at: string, meta: LessonMeta, underHv: boolean): VmSpec[] {
  if (o.vms === undefined) {
    return [{ kernel: o.kernel === undefined ? meta.kernel : text(o.kernel, `${at}.kernel`) }];
  }
  if (o.kernel !== undefined) throw new SpecError(`${at}.kernel`, 'give either kernel or vms, not both');
  if (!underHv) throw new SpecError(`${at}.vms`, 'several VMs need the hypervisor: add "hv": {...} to this run');
  const vms = list(o.vms, `${at}.vms`).map((v, i) => {
    const vo = object(v, `${at}.vms[${i}]`, ['kernel', 'weight', 'cap']);
    const spec: VmSpec = { kernel: vo.kernel === undefined ? meta.kernel : text(vo.kernel, `${at}.vms[${i}].kernel`) };
    if (vo.weight !== undefined) spec.weight = wholeNumber(vo.weight, `${at}.vms[${i}].weight`, 1);
    if (vo.cap !== undefined) spec.cap = wholeNumber(vo.cap, `${at}.vms[${i}].cap`);
    return spec;
  });
  if (vms.length === 0) throw new SpecError(`${at}.vms`, 'needs at least one VM');
  return vms;
}

function runSpec(v: unknown, at: string, meta: LessonMeta): RunSpec {
  const o = object(v, at, ['name', 'hv', 'migrate', 'kernel', 'vms', 'maxInstructions', 'expect']);
  const run: RunSpec = {
    name: text(o.name, `${at}.name`),
    at,
    vms: [],
    maxInstructions: o.maxInstructions === undefined ? meta.machine.maxInstructions : wholeNumber(o.maxInstructions, `${at}.maxInstructions`, 1),
    expect: { exit: [], serial: [], counts: [], sequences: [] },
  };
  if (o.hv !== undefined) {
    run.hv = o.hv === true ? meta.hv ?? HV_DEFAULTS : hvSettings(o.hv, meta.hv ?? HV_DEFAULTS, (f, p) => { throw new SpecError(`${at}.hv${f ? '.' + f : ''}`, p); });
  }
  if (o.migrate !== undefined) {
    if (run.hv === undefined) throw new SpecError(`${at}.migrate`, 'a migration moves a VM between two hypervisor hosts: add "hv": {...} (or "hv": true) to this run');
    run.migrate = migrateSpec(o.migrate, `${at}.migrate`);
  }
  run.vms = vmSpecs(o, at, meta, run.hv !== undefined);
  const e = object(o.expect, `${at}.expect`, ['exit', 'serial', 'counts', 'sequences', 'migration']);
  run.expect.exit = oneOrMany(e.exit, `${at}.expect.exit`).map((x) => exitExpectation(x.value, x.at));
  run.expect.serial = oneOrMany(e.serial, `${at}.expect.serial`).map((x) => serialExpectation(x.value, x.at));
  run.expect.counts = list(e.counts, `${at}.expect.counts`).map((c, i) => {
    const cat = `${at}.expect.counts[${i}]`;
    const f = parseFilter(c, cat, ['count']);
    return { ...f, count: countSpec((c as Obj).count, `${cat}.count`), at: cat };
  });
  run.expect.sequences = list(e.sequences, `${at}.expect.sequences`).map((s, i) => sequenceExpectation(s, `${at}.expect.sequences[${i}]`, i));
  if (e.migration !== undefined) run.expect.migration = migrationExpectation(e.migration, `${at}.expect.migration`, run.migrate);
  const total = run.expect.exit.length + run.expect.serial.length + run.expect.counts.length + run.expect.sequences.length + (run.expect.migration ? 1 : 0);
  if (total === 0) throw new SpecError(`${at}.expect`, 'expects nothing: give exit, serial, counts, sequences or migration');
  for (const x of [...run.expect.exit, ...run.expect.serial]) {
    if (x.vm >= run.vms.length) throw new SpecError(`${x.at}.vm`, `this run has ${run.vms.length} VM(s), numbered from 0`);
  }
  return run;
}

/** Parses and validates check.json; `file` names it in errors. */
export function parseCheck(file: string, source: string, meta: LessonMeta): CheckSpec {
  let raw: unknown;
  try {
    raw = JSON.parse(source);
  } catch (err) {
    throw new LessonFormatError(file, jsonErrorPlace(source, err as Error), `not valid JSON: ${(err as Error).message}`);
  }
  try {
    const o = object(raw, '', ['requires', 'note', 'runs']);
    const spec: CheckSpec = { runs: list(o.runs, 'runs').map((r, i) => runSpec(r, `runs[${i}]`, meta)) };
    if (spec.runs.length === 0) throw new SpecError('runs', 'a check needs at least one run');
    if (o.requires !== undefined) {
      if (o.requires !== 'hv') throw new SpecError('requires', `${JSON.stringify(o.requires)}: the only requirement known is "hv"`);
      spec.requires = 'hv';
    }
    if (o.note !== undefined) spec.note = text(o.note, 'note');
    const hvRun = spec.runs.find((r) => r.hv !== undefined);
    if (hvRun && spec.requires !== 'hv') throw new SpecError(`${hvRun.at}.hv`, 'runs under the hypervisor: say so with "requires": "hv" at the top of check.json');
    if (spec.requires === 'hv' && !hvRun) throw new SpecError('requires', '"hv" is required but no run has "hv": {...}');
    const names = new Set<string>();
    for (const r of spec.runs) {
      if (names.has(r.name)) throw new SpecError(`${r.at}.name`, `another run is also called '${r.name}'`);
      names.add(r.name);
    }
    return spec;
  } catch (err) {
    if (err instanceof SpecError) throw new LessonFormatError(file, err.at || 'top level', err.problem);
    throw err;
  }
}

function jsonErrorPlace(source: string, err: Error): string {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return 'JSON';
  const pos = Number(m[1]);
  const before = source.slice(0, pos).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}
