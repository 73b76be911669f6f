// One event stream out of two hosts (`vizor migrate --trace`): each host's hypervisor has its own
// emitter, its own sequence numbers and its own virtual clock (host B's starts near 0 while host A
// has run for millions of ticks). The merged stream renumbers seq 1, 2, 3... in arrival order and
// shifts each host's ticks so that time never runs backwards: a host's offset is fixed at its first
// event, so that its clock continues from the latest tick already written. The VM index stays the
// emitter's own; which host an event comes from follows from the migration phases (the source
// until the 'resume' event, the destination after it) and is written into the trace's params.
import type { Emitter, Listener } from '../trace/emitter.ts';
import type { TraceEvent } from '../trace/schema.ts';

export class HostMerger {
  private seq = 0;
  private lastTick = 0;

  constructor(private readonly out: Listener) {}

  /** Forwards one host's events (of the output listener's kinds) into the merged stream; returns the unsubscribe. */
  attach(emitter: Emitter): () => void {
    let offset: number | undefined;
    return emitter.listen({
      mask: this.out.mask,
      onEvent: (ev) => {
        offset ??= Math.max(0, this.lastTick - ev.tick);
        const tick = Math.max(this.lastTick, ev.tick + offset);
        this.lastTick = tick;
        this.out.onEvent({ ...ev, seq: ++this.seq, tick } as TraceEvent);
      },
    });
  }
}
