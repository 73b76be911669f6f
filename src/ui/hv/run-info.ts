// The run's configuration: from the trace header's params when the hypervisor recorded them
// (params.vms = [{ vm, name, cpu, paging, weight }], params.sched, params.hostFrames), otherwise
// guessed from the events themselves.
import type { RunInfo, VizEvent, VmInfo } from './types.ts';

export function inferRunInfo(events: readonly VizEvent[], params: Record<string, unknown> = {}): RunInfo {
  const fromParams = Array.isArray(params.vms) ? (params.vms as Partial<VmInfo>[]) : [];
  const ids = new Set<number>();
  const nested = new Set<number>();
  const shadow = new Set<number>();
  let maxFrame = 0;
  let credit = false;
  for (const ev of events) {
    if (ev.vm >= 0) ids.add(ev.vm);
    if (ev.kind === 'pagefault' && ev.outcome === 'ept-violation') nested.add(ev.vm);
    else if (ev.kind === 'walk' && ev.dimension === 'nested') nested.add(ev.vm);
    else if (ev.kind === 'shadow') shadow.add(ev.vm);
    else if (ev.kind === 'sched' && ev.credits) credit = true;
    else if (ev.kind === 'frame') maxFrame = Math.max(maxFrame, ev.frame + ev.count);
  }
  for (const p of fromParams) if (typeof p.vm === 'number') ids.add(p.vm);
  const vms: VmInfo[] = [...ids].sort((a, b) => a - b).map((vm) => {
    const p = fromParams.find((x) => x.vm === vm) ?? {};
    return {
      vm,
      name: typeof p.name === 'string' ? p.name : `vm${vm}`,
      cpu: p.cpu ?? 'vtx',
      paging: p.paging ?? (nested.has(vm) ? 'nested' : shadow.has(vm) ? 'shadow' : 'bare'),
      weight: typeof p.weight === 'number' ? p.weight : 256,
    };
  });
  const hostFrames = typeof params.hostFrames === 'number' ? params.hostFrames : Math.max(4096, Math.ceil(maxFrame / 1024) * 1024);
  const sched = params.sched === 'rr' || params.sched === 'credit' ? params.sched : credit ? 'credit' : 'rr';
  return { vms, sched, hostFrames };
}
