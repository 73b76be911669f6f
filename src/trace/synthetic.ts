// A generated, varied event stream for tests, benchmarks and UI demos: every kind, every enum
// value, optional fields present and absent, several VMs and vCPUs, exit/entry pairs and
// scheduling in a plausible order. Deterministic (a seeded xorshift), so tests can compare runs.
import {
  EXIT_REASONS,
  FIELD_SPECS,
  type EventFields,
  type EventKind,
  type FieldSpec,
  type TraceEvent,
} from './schema.ts';

export interface SyntheticOptions {
  count: number;
  seed?: number;
  vms?: number;
  vcpus?: number;
}

function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

const TEXTS = ['H', 'e', 'l', 'o', '\n', 'hello, world\n', 'ünïcödé ✓', '"quoted" \\ back\tslash', ''];

/** A value for any field type, picked from the full range (edges included). */
function valueFor(spec: FieldSpec, next: () => number): unknown {
  const r = next();
  switch (spec.type) {
    case 'u8':
      return r & 0xff;
    case 'u16':
      return r & 0xffff;
    case 'u32':
      return [0, 0xffffffff, 0xfffff000, r][r % 4];
    case 'i32':
      return [-1, 0x7fffffff, -0x80000000, r % 8][r % 4];
    case 'bool':
      return (r & 1) === 1;
    case 'enum':
      return spec.values[r % spec.values.length];
    case 'string':
      return TEXTS[r % TEXTS.length];
    case 'numbers':
      return [[], [r % 300, -(r % 77) || 0], [0.5, -2.25, 1e-7, 123456789012]][r % 3];
    case 'bytes':
      return [[], [0x0f, 0x01, 0xd8], [r & 0xff]][r % 3];
  }
}

/** Fields for one kind: every optional field present about half of the time. */
export function randomFields<K extends EventKind>(kind: K, next: () => number): EventFields[K] {
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(FIELD_SPECS[kind] as Record<string, FieldSpec>)) {
    if (spec.optional && (next() & 1) === 0) continue;
    out[name] = valueFor(spec, next);
  }
  return out as EventFields[K];
}

const KINDS_BY_WEIGHT: EventKind[] = [
  'walk',
  'walk',
  'walk',
  'tlb',
  'tlb',
  'io',
  'io',
  'pagefault',
  'pagefault',
  'shadow',
  'shadow',
  'exception',
  'interrupt',
  'console',
  'mode',
  'halt',
  'reset',
  'shutdown',
  'warning',
  'migration',
  'frame',
];

/**
 * A stream that looks like a multi-VM hypervisor run: a scheduler switches VMs, each vCPU runs
 * between an entry and an exit, and other events fall in between. The hypervisor (vm -1) emits
 * the sched events.
 */
export function syntheticEvents(opts: SyntheticOptions): TraceEvent[] {
  const next = rng(opts.seed ?? 1);
  const vms = opts.vms ?? 3;
  const vcpus = opts.vcpus ?? 2;
  const events: TraceEvent[] = [];
  let seq = 0;
  let tick = 0;
  let vm = 0;
  let vcpu = 0;
  let inGuest = false;
  const push = <K extends EventKind>(kind: K, fields: EventFields[K], atVm = vm, atVcpu = vcpu): void => {
    seq += 1 + (next() % 3); // gaps, as when a listener filters
    tick += next() % 50;
    events.push({ seq, tick, vm: atVm, vcpu: atVcpu, kind, ...fields } as TraceEvent);
  };
  while (events.length < opts.count) {
    const r = next() % 10;
    if (r === 0 && !inGuest) {
      const to = next() % vms;
      push('sched', { ...randomFields('sched', next), from: vm, to }, -1, 0);
      vm = to;
      vcpu = next() % vcpus;
    } else if (r <= 2) {
      if (inGuest) {
        const f = randomFields('exit', next);
        push('exit', { ...f, reason: EXIT_REASONS[next() % EXIT_REASONS.length]!, cycles: next() % 5000 });
      } else {
        push('entry', randomFields('entry', next));
      }
      inGuest = !inGuest;
    } else {
      const kind = KINDS_BY_WEIGHT[next() % KINDS_BY_WEIGHT.length]!;
      push(kind, randomFields(kind, next));
    }
  }
  return events.slice(0, opts.count);
}
