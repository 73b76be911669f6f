// Source breakpoints: file:line with an optional condition, resolved to addresses through the
// assembler's map (the first instruction emitted for that line, or the next line that has one).
import type { AsmMap } from '../../worker/protocol.ts';
import { describeSpec, sameSpec, validateSpec, type EventBreakSpec } from '../../debug/event-conditions.ts';

export interface SourceBreakpoint {
  id: number;
  file: string;
  line: number;
  condition: string;
  enabled: boolean;
}

export interface ResolvedBreakpoint {
  id: number;
  address: number;
  /** An offset in CS, matched against EIP (a line of a section assembled for another place). */
  offset?: boolean;
  condition?: string;
  enabled: boolean;
}

export interface WatchSpec {
  id: number;
  /** As typed: an address or a symbol. */
  where: string;
  length: number;
  kind: 'read' | 'write' | 'access';
}

/** Event kinds a student can stop on; exit, shadow, sched and migration only occur under the hypervisor. */
export const EVENT_BREAK_KINDS = ['exception', 'pagefault', 'interrupt', 'mode', 'io', 'console', 'halt', 'reset', 'exit', 'shadow', 'sched', 'migration'] as const;

/** An event breakpoint in the list: a kind, maybe one field = value (see debug/event-conditions.ts). */
export interface EventBreak extends EventBreakSpec {
  id: number;
  enabled: boolean;
  /** As the list shows it: "pagefault outcome=hidden". */
  label: string;
}

export class Breakpoints {
  list = $state<SourceBreakpoint[]>([]);
  /** Stop on the next event matching one of these. */
  events = $state<EventBreak[]>([]);
  watches = $state<WatchSpec[]>([]);
  private nextId = 1;

  has(file: string, line: number): boolean {
    return this.list.some((b) => b.file === file && b.line === line);
  }

  at(file: string, line: number): SourceBreakpoint | undefined {
    return this.list.find((b) => b.file === file && b.line === line);
  }

  toggle(file: string, line: number): void {
    if (this.has(file, line)) this.list = this.list.filter((b) => !(b.file === file && b.line === line));
    else this.list.push({ id: this.nextId++, file, line, condition: '', enabled: true });
  }

  /** Adds an event breakpoint (none twice); throws EventFilterError when the schema has no such field or value. */
  addEvent(spec: EventBreakSpec): EventBreak {
    const s = validateSpec(spec);
    const existing = this.events.find((e) => sameSpec(e, s));
    if (existing) {
      existing.enabled = true;
      return existing;
    }
    const e: EventBreak = { ...s, id: this.nextId++, enabled: true, label: describeSpec(s) };
    this.events.push(e);
    return e;
  }

  removeEvent(id: number): void {
    this.events = this.events.filter((e) => e.id !== id);
  }

  /** What the worker installs: the enabled event breakpoints. */
  eventSpecs(): EventBreakSpec[] {
    return this.events.filter((e) => e.enabled).map(({ kind, field, value }) => (field === undefined ? { kind } : { kind, field, value }));
  }

  addWatch(where: string, length: number, kind: WatchSpec['kind']): void {
    this.watches.push({ id: this.nextId++, where, length, kind });
  }

  removeWatch(id: number): void {
    this.watches = this.watches.filter((w) => w.id !== id);
  }

  remove(id: number): void {
    this.list = this.list.filter((b) => b.id !== id);
  }

  setCondition(id: number, condition: string): void {
    const b = this.list.find((x) => x.id === id);
    if (b) b.condition = condition;
  }

  /** Addresses for the worker; breakpoints on lines with no code move to the next line that has some. */
  resolve(map: AsmMap | null): ResolvedBreakpoint[] {
    if (!map) return [];
    const out: ResolvedBreakpoint[] = [];
    for (const b of this.list) {
      const candidates = map.lines.filter((l) => l.code && l.file === b.file && l.line >= b.line);
      if (candidates.length === 0) continue;
      const line = Math.min(...candidates.map((l) => l.line));
      const first = candidates.filter((l) => l.line === line).sort((x, y) => x.address - y.address)[0];
      out.push({ id: b.id, address: first.address, ...(first.segmentRelative ? { offset: true } : {}), condition: b.condition || undefined, enabled: b.enabled });
    }
    return out;
  }
}
