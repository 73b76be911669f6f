// The emitter: producers ask `emitter.mask & KIND_BIT.x` before building an event, so a stream
// nobody listens to costs one AND per potential event and allocates nothing (bench/trace.ts
// measures it). Listeners filter by kind (mask) and by VM; the emitter keeps one listener list
// per kind so that emitting never looks at listeners that do not want the kind.
import {
  EVENT_KINDS,
  KIND_BIT,
  KIND_CODE,
  maskOf,
  type EventFields,
  type EventKind,
  type TraceEvent,
} from './schema.ts';

export interface Listener {
  /** Kinds this listener wants (an OR of KIND_BIT values; see maskOf). */
  mask: number;
  /** Only events of this VM (-1 = the hypervisor's own), or all VMs when undefined. */
  vm?: number;
  onEvent(ev: TraceEvent): void;
  /**
   * Optional fast path for storage listeners (the ring buffer, batchers): receives the parts of
   * the event without the emitter building the merged object. When present it is called instead
   * of onEvent. `fields` is the producer's object: read it now, do not keep it.
   */
  onRaw?(kindCode: number, fields: object, seq: number, tick: number, vm: number, vcpu: number): void;
}

export class Emitter {
  /** OR of all listeners' masks: the fast check producers make. */
  mask = 0;
  /** Current context, set by whoever runs a vCPU. */
  vm = 0;
  vcpu = 0;
  /** Virtual time source, set by the machine. */
  now: () => number = () => 0;
  private seq = 0;
  private listeners: Listener[] = [];
  /** Listeners per kind code (only those whose mask has the kind). */
  private byKind: Listener[][] = EVENT_KINDS.map(() => []);

  wants(kind: EventKind): boolean {
    return (this.mask & KIND_BIT[kind]) !== 0;
  }

  emit<K extends EventKind>(kind: K, fields: EventFields[K]): void {
    if ((this.mask & KIND_BIT[kind]) === 0) return;
    const code = KIND_CODE[kind];
    const seq = this.seq++;
    const tick = this.now();
    const vm = this.vm;
    const vcpu = this.vcpu;
    const list = this.byKind[code]!;
    let ev: TraceEvent | undefined;
    for (let i = 0; i < list.length; i++) {
      const l = list[i]!;
      if (l.vm !== undefined && l.vm !== vm) continue;
      if (l.onRaw !== undefined) l.onRaw(code, fields, seq, tick, vm, vcpu);
      else l.onEvent((ev ??= { seq, tick, vm, vcpu, kind, ...fields } as TraceEvent));
    }
  }

  /** Adds a listener; returns the function that removes it. */
  listen(listener: Listener): () => void {
    this.listeners.push(listener);
    this.recompute();
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.recompute();
    };
  }

  /** Shorthand: listen to some kinds (all VMs, or one) with a plain callback. */
  on(kinds: readonly EventKind[], onEvent: (ev: TraceEvent) => void, vm?: number): () => void {
    return this.listen(
      vm === undefined ? { mask: maskOf(kinds), onEvent } : { mask: maskOf(kinds), vm, onEvent },
    );
  }

  get listenerCount(): number {
    return this.listeners.length;
  }

  /** Sequence number the next event will get (the debugger restores it when stepping back). */
  get nextSeq(): number {
    return this.seq;
  }
  set nextSeq(v: number) {
    this.seq = v;
  }

  private recompute(): void {
    this.mask = this.listeners.reduce((m, l) => m | l.mask, 0);
    this.byKind = EVENT_KINDS.map((k) => this.listeners.filter((l) => (l.mask & KIND_BIT[k]) !== 0));
  }
}
