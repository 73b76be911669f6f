// Types shared by the hypervisor views. The views read events and run parameters, never the CPU.
import type { TraceEvent } from '../../trace/schema.ts';

/** How one VM is configured (from the trace header's params.vms, or guessed from its events). */
export interface VmInfo {
  vm: number;
  name: string;
  /** CPU virtualisation technique. */
  cpu: 'vtx' | 'deprivilege' | 'bt';
  paging: 'shadow' | 'nested' | 'bare';
  /** Credit-scheduler weight (Xen's default is 256). */
  weight: number;
}

export interface RunInfo {
  vms: VmInfo[];
  sched: 'rr' | 'credit';
  /** Host physical memory, in 4 KiB frames (for the memory map). */
  hostFrames: number;
  /** Frames 0..hvFrames-1 are the hypervisor's own from the start (frame events never announce them). */
  hvFrames?: number;
}

export type { FrameOwner } from '../../trace/schema.ts';

/** What the viz reads: the schema's events (host frames included, as 'frame' events). */
export type VizEvent = TraceEvent;

/** A request from a view to move the debugger to an event. */
export interface SeekRequest {
  seq: number;
  tick: number;
}
