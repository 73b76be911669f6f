// Host frame bookkeeping for the event stream: who holds each frame the hypervisor hands out, and
// a 'frame' event (alloc/free) for each change, so the host memory map can replay the run — and
// step it back. HostFrames calls in here on every alloc and release; recording the owner costs two
// array stores, and the event is built only when someone listens to the kind.
import { KIND_BIT, type FrameOwner } from '../trace/schema.ts';
import type { Emitter } from '../trace/emitter.ts';

const OWNERS: readonly FrameOwner[] = ['hypervisor', 'guest', 'shadow', 'nested'];
const CODE: Readonly<Record<FrameOwner, number>> = { hypervisor: 1, guest: 2, shadow: 3, nested: 4 };

export class FrameEvents {
  /** Per host frame: 0 = not handed out, else 1 + index in OWNERS. */
  private readonly owner: Uint8Array;
  private readonly ownerVm: Int16Array;

  constructor(private readonly emitter: Emitter, totalFrames: number) {
    this.owner = new Uint8Array(totalFrames);
    this.ownerVm = new Int16Array(totalFrames);
  }

  alloc(frame: number, owner: FrameOwner, ownerVm: number): void {
    if (frame < 0 || frame >= this.owner.length) return;
    this.owner[frame] = CODE[owner];
    this.ownerVm[frame] = ownerVm;
    if ((this.emitter.mask & KIND_BIT.frame) !== 0) this.emit('alloc', frame, owner, ownerVm);
  }

  free(frame: number): void {
    const code = this.owner[frame];
    if (code === undefined || code === 0) return;
    this.owner[frame] = 0;
    if ((this.emitter.mask & KIND_BIT.frame) !== 0) this.emit('free', frame, OWNERS[code - 1]!, this.ownerVm[frame]!);
  }

  /**
   * Emits an 'alloc' for every frame held now, in frame order: a listener attached after the VMs
   * were created (their images loaded, so some memory already backed) starts from the truth.
   */
  announce(): void {
    if ((this.emitter.mask & KIND_BIT.frame) === 0) return;
    for (let f = 0; f < this.owner.length; f++) {
      const code = this.owner[f]!;
      if (code !== 0) this.emit('alloc', f, OWNERS[code - 1]!, this.ownerVm[f]!);
    }
  }

  /** Every frame held now, with its "owner" or "owner vmN". */
  held(): Map<number, string> {
    const out = new Map<number, string>();
    for (let f = 0; f < this.owner.length; f++) {
      const code = this.owner[f]!;
      if (code !== 0) out.set(f, ownerKey(OWNERS[code - 1]!, this.ownerVm[f]!));
    }
    return out;
  }

  /** Frames held now, by "owner" or "owner vmN" (what the frame events of a trace add up to). */
  inUse(): Map<string, number> {
    return countByOwner(this.held());
  }

  /** The hypervisor does the allocating: the event is its own (vm -1, as sched is), ownerVm names the VM served. */
  private emit(op: 'alloc' | 'free', frame: number, owner: FrameOwner, ownerVm: number): void {
    const em = this.emitter;
    const vm = em.vm, vcpu = em.vcpu;
    em.vm = -1;
    em.vcpu = 0;
    em.emit('frame', { op, frame, owner, ownerVm });
    em.vm = vm;
    em.vcpu = vcpu;
  }
}

export const ownerKey = (owner: FrameOwner, vm: number): string => (vm < 0 ? owner : `${owner} vm${vm}`);

export function countByOwner(held: ReadonlyMap<number, string>): Map<string, number> {
  const out = new Map<string, number>();
  for (const key of held.values()) out.set(key, (out.get(key) ?? 0) + 1);
  return out;
}
