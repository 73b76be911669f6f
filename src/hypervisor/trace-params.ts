// What a trace file's header says about a hypervisor run (params), so a viewer given only the
// file knows each VM's technique, paging and scheduler weight (the Gantt's "achieved share
// against weight"), the host's size in frames and which frames are the hypervisor's own.
import type { Hypervisor } from './hypervisor.ts';

export interface VmParams {
  vm: number;
  name: string;
  cpu: string;
  paging: 'shadow' | 'nested';
  /** Credit-scheduler weight (256 = Xen's default) and cap (0 = none). */
  weight: number;
  cap: number;
}

export interface HypervisorTraceParams {
  vms: VmParams[];
  sched: 'rr' | 'credit';
  /** Host physical memory in 4 KiB frames. */
  hostFrames: number;
  /** Frames 0..hvFrames-1 are the hypervisor's own, never handed out (so never in a frame event). */
  hvFrames: number;
}

export function hypervisorTraceParams(hv: Hypervisor): HypervisorTraceParams {
  return {
    vms: hv.vms.map((v) => ({ vm: v.id, name: v.name, cpu: v.cpuTechnique, paging: v.paging.kind, weight: v.weight, cap: v.cap })),
    sched: hv.scheduler.name,
    hostFrames: hv.frames.total,
    hvFrames: hv.frames.firstFrame,
  };
}
