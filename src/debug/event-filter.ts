// Event breakpoints: stop when the event stream carries an event matching a filter. A filter is a
// kind, optionally a VM, and predicates over the event's own fields (the schema is the contract),
// so every kind — exit reasons, page-fault outcomes, shadow operations, scheduling switches,
// exception vectors, mode changes, console writes, I/O ports — is expressed the same way.
import { EVENT_KINDS, KIND_BIT, type EventFields, type EventKind, type TraceEvent } from '../trace/schema.ts';

/** A field predicate: equal to a value, one of several values, or within an inclusive range. */
export type FieldTest = number | string | boolean | readonly (number | string)[] | { min?: number; max?: number } | { contains: string };

export interface EventFilter<K extends EventKind = EventKind> {
  kind: K;
  /** Only events of this VM (undefined = any; 0 on a bare machine, -1 the hypervisor). */
  vm?: number;
  /** Field name → test. Unknown fields never match (a misspelt filter must not stop everywhere). */
  where?: { [F in keyof EventFields[K]]?: FieldTest };
}

export interface EventBreakpoint {
  id: number;
  filter: EventFilter;
  enabled: boolean;
  hits: number;
}

export class EventFilterError extends Error {}

/** Checks a filter against the schema's kinds before it is installed. */
export function validateFilter(f: EventFilter): void {
  if (!EVENT_KINDS.includes(f.kind)) {
    throw new EventFilterError(`unknown event kind '${String(f.kind)}' (one of: ${EVENT_KINDS.join(', ')})`);
  }
  for (const [field, test] of Object.entries(f.where ?? {})) {
    if (test === undefined) continue;
    if (typeof test === 'object' && test !== null && !Array.isArray(test) && !('contains' in test) && !('min' in test) && !('max' in test)) {
      throw new EventFilterError(`bad test for field '${field}': use a value, a list, {min,max} or {contains}`);
    }
  }
}

function testField(value: unknown, test: FieldTest): boolean {
  if (value === undefined) return false;
  if (Array.isArray(test)) return test.includes(value as number | string);
  if (typeof test === 'object' && test !== null) {
    if ('contains' in test) return typeof value === 'string' && value.includes(test.contains);
    const t = test as { min?: number; max?: number };
    if (typeof value !== 'number') return false;
    const v = value >>> 0;
    return (t.min === undefined || v >= t.min >>> 0) && (t.max === undefined || v <= t.max >>> 0);
  }
  return value === test;
}

export function matches(f: EventFilter, ev: TraceEvent): boolean {
  if (ev.kind !== f.kind) return false;
  if (f.vm !== undefined && ev.vm !== f.vm) return false;
  const where = f.where as Record<string, FieldTest | undefined> | undefined;
  if (where) {
    const fields = ev as unknown as Record<string, unknown>;
    for (const name in where) {
      const test = where[name];
      if (test !== undefined && !testField(fields[name], test)) return false;
    }
  }
  return true;
}

/** The enabled event breakpoints, with the emitter mask they need. */
export class EventBreakpointTable {
  private readonly byId = new Map<number, EventBreakpoint>();

  constructor(private readonly nextId: () => number) {}

  add(filter: EventFilter, enabled = true): EventBreakpoint {
    validateFilter(filter);
    const eb: EventBreakpoint = { id: this.nextId(), filter, enabled, hits: 0 };
    this.byId.set(eb.id, eb);
    return eb;
  }

  remove(id: number): boolean {
    return this.byId.delete(id);
  }

  get(id: number): EventBreakpoint | undefined {
    return this.byId.get(id);
  }

  list(): EventBreakpoint[] {
    return [...this.byId.values()];
  }

  /** OR of KIND_BIT over enabled filters: what to ask the emitter for. */
  get mask(): number {
    let m = 0;
    for (const eb of this.byId.values()) if (eb.enabled) m |= KIND_BIT[eb.filter.kind];
    return m;
  }

  /** The first enabled breakpoint matching `ev`. */
  match(ev: TraceEvent): EventBreakpoint | undefined {
    for (const eb of this.byId.values()) if (eb.enabled && matches(eb.filter, ev)) return eb;
    return undefined;
  }
}
