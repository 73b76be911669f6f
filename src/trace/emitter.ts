// The emitter: producers ask `emitter.mask & KIND_BIT.x` before building an event, so a stream
// nobody listens to costs one AND per potential event and allocates nothing.
import { KIND_BIT, type EventFields, type EventKind, type TraceEvent } from './schema.ts';

export interface Listener {
  /** Kinds this listener wants (an OR of KIND_BIT values). */
  mask: number;
  /** Only events of this VM, or all VMs when undefined. */
  vm?: number;
  onEvent(ev: TraceEvent): void;
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

  wants(kind: EventKind): boolean {
    return (this.mask & KIND_BIT[kind]) !== 0;
  }

  emit<K extends EventKind>(kind: K, fields: EventFields[K]): void {
    if ((this.mask & KIND_BIT[kind]) === 0) return;
    const ev = { seq: this.seq++, tick: this.now(), vm: this.vm, vcpu: this.vcpu, kind, ...fields } as TraceEvent;
    for (const l of this.listeners) {
      if ((l.mask & KIND_BIT[kind]) !== 0 && (l.vm === undefined || l.vm === ev.vm)) l.onEvent(ev);
    }
  }

  listen(listener: Listener): () => void {
    this.listeners.push(listener);
    this.recomputeMask();
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
      this.recomputeMask();
    };
  }

  /** Sequence number the next event will get (the debugger restores it when stepping back). */
  get nextSeq(): number {
    return this.seq;
  }
  set nextSeq(v: number) {
    this.seq = v;
  }

  private recomputeMask(): void {
    this.mask = this.listeners.reduce((m, l) => m | l.mask, 0);
  }
}
