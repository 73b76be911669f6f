// Types shared by the hypervisor views. The views read events and run parameters, never the CPU.
import type { EventBase, TraceEvent } from '../../trace/schema.ts';

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
}

/**
 * PROPOSED event kind, not yet in src/trace/schema.ts: the hypervisor took or gave back a host
 * physical frame. Without it the memory map can only guess ownership from shadow fills and walk
 * addresses. Proposal for the schema: `frame: { op: 'alloc' | 'free'; frame: u32 (first host
 * frame number); count: u32; owner: 'hypervisor' | 'guest' | 'shadow' | 'nested'; ownerVm: i32 }`.
 * Until the trace owner adds it, it lives only in these files (and in NDJSON lines the viz page
 * reads itself, since the schema's reader rejects unknown kinds).
 */
export type FrameOwner = 'hypervisor' | 'guest' | 'shadow' | 'nested';
export interface ProposedFrameEvent extends EventBase {
  kind: 'frame';
  op: 'alloc' | 'free';
  /** First host frame number, and how many consecutive frames. */
  frame: number;
  count: number;
  owner: FrameOwner;
  ownerVm: number;
}

/** What the viz reads: the schema's events plus the proposed frame events. */
export type VizEvent = TraceEvent | ProposedFrameEvent;

/** A request from a view to move the debugger to an event. */
export interface SeekRequest {
  seq: number;
  tick: number;
}
