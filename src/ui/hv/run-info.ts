// The run's configuration: from the trace header's params when the hypervisor recorded them
// (params.vms = [{ vm, name, cpu, paging, weight }], params.sched, params.hostFrames), otherwise
// guessed from the events themselves.
import type { RunInfo, VizEvent, VmInfo } from './types.ts';

export type PagingSeen = Map<number, 'shadow' | 'nested'>;

/**
 * Adds to `seen` what the events say about how each VM pages: an EPT violation, a nested walk
 * reference or a nested-table frame means nested paging; a shadow operation or a shadow-table
 * frame, shadow paging. Kept over a whole run by HvState: the app's event list is a window that
 * drops its oldest events, and the late part of a run may have no shadow operation at all.
 */
export function notePaging(events: readonly VizEvent[], seen: PagingSeen): void {
  for (const ev of events) {
    if (ev.kind === 'pagefault' && ev.outcome === 'ept-violation') seen.set(ev.vm, 'nested');
    else if (ev.kind === 'walk' && ev.dimension === 'nested') seen.set(ev.vm, 'nested');
    else if (ev.kind === 'shadow' && ev.vm >= 0) { if (!seen.has(ev.vm)) seen.set(ev.vm, 'shadow'); }
    else if (ev.kind === 'frame' && ev.op === 'alloc' && ev.ownerVm >= 0 && (ev.owner === 'shadow' || ev.owner === 'nested')) seen.set(ev.ownerVm, ev.owner);
  }
}

/** `seen`: what earlier events of the same run showed about paging (notePaging); these events add to it. */
export function inferRunInfo(events: readonly VizEvent[], params: Record<string, unknown> = {}, seen: PagingSeen = new Map()): RunInfo {
  const fromParams = Array.isArray(params.vms) ? (params.vms as Partial<VmInfo>[]) : [];
  const ids = new Set<number>();
  let maxFrame = 0;
  let credit = false;
  for (const ev of events) {
    if (ev.vm >= 0) ids.add(ev.vm);
    if (ev.kind === 'sched' && ev.credits) credit = true;
    else if (ev.kind === 'frame') maxFrame = Math.max(maxFrame, ev.frame + 1);
  }
  notePaging(events, seen);
  for (const p of fromParams) if (typeof p.vm === 'number') ids.add(p.vm);
  // `vizor run --hv` writes params.mode = "hv <cpu> <paging> <sched>".
  const mode = typeof params.mode === 'string' ? params.mode.split(/\s+/) : [];
  const modeCpu = mode[0] === 'hv' && (mode[1] === 'vtx' || mode[1] === 'deprivilege' || mode[1] === 'bt') ? mode[1] : undefined;
  const modePaging = mode[0] === 'hv' && (mode[2] === 'shadow' || mode[2] === 'nested') ? mode[2] : undefined;
  const modeSched = mode[0] === 'hv' && (mode[3] === 'rr' || mode[3] === 'credit') ? mode[3] : undefined;
  const vms: VmInfo[] = [...ids].sort((a, b) => a - b).map((vm) => {
    const p = fromParams.find((x) => x.vm === vm) ?? {};
    return {
      vm,
      name: typeof p.name === 'string' ? p.name : `vm${vm}`,
      cpu: p.cpu ?? modeCpu ?? 'vtx',
      paging: p.paging ?? modePaging ?? seen.get(vm) ?? 'bare',
      weight: typeof p.weight === 'number' && p.weight > 0 ? p.weight : 256,
    };
  });
  const hostFrames = typeof params.hostFrames === 'number' ? params.hostFrames : Math.max(4096, Math.ceil(maxFrame / 1024) * 1024);
  const sched = params.sched === 'rr' || params.sched === 'credit' ? params.sched : modeSched ?? (credit ? 'credit' : 'rr');
  const hvFrames = typeof params.hvFrames === 'number' ? params.hvFrames : undefined;
  return hvFrames === undefined ? { vms, sched, hostFrames } : { vms, sched, hostFrames, hvFrames };
}
