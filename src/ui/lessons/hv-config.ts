// The hypervisor part of the machine settings: bare, or N VMs under vizor's hypervisor with a CPU
// virtualization technique, a paging technique and a scheduler.
import type { HvConfig } from '../../worker/protocol.ts';

export type { HvConfig, HvMode } from '../../worker/protocol.ts';

export const BARE: HvConfig = { mode: 'bare', vms: 1, cpu: 'vtx', paging: 'shadow', sched: 'rr' };

export const CPU_CHOICES: { id: HvConfig['cpu']; label: string }[] = [
  { id: 'vtx', label: 'hardware assist (VT-x style)' },
  { id: 'deprivilege', label: 'trap and emulate (deprivileged)' },
  { id: 'bt', label: 'binary translation' },
];
export const PAGING_CHOICES: { id: HvConfig['paging']; label: string }[] = [
  { id: 'shadow', label: 'shadow page tables' },
  { id: 'nested', label: 'nested paging (EPT style)' },
];
export const SCHED_CHOICES: { id: HvConfig['sched']; label: string }[] = [
  { id: 'rr', label: 'round-robin' },
  { id: 'credit', label: 'credit (weights)' },
];

/** A stored or received value → a valid HvConfig (anything unknown falls back to the defaults). */
export function normaliseHv(v: unknown): HvConfig {
  const o = (typeof v === 'object' && v !== null ? v : {}) as Partial<HvConfig>;
  const pick = <T extends string>(x: unknown, allowed: readonly T[], d: T): T => ((allowed as readonly unknown[]).includes(x) ? (x as T) : d);
  return {
    mode: pick(o.mode, ['bare', 'hypervisor'] as const, 'bare'),
    vms: typeof o.vms === 'number' && Number.isInteger(o.vms) ? Math.min(4, Math.max(1, o.vms)) : 1,
    cpu: pick(o.cpu, ['vtx', 'deprivilege', 'bt'] as const, 'vtx'),
    paging: pick(o.paging, ['shadow', 'nested'] as const, 'shadow'),
    sched: pick(o.sched, ['rr', 'credit'] as const, 'rr'),
    ...(typeof o.focusVm === 'number' && Number.isInteger(o.focusVm) && o.focusVm >= 0 ? { focusVm: Math.min(3, o.focusVm) } : {}),
  };
}

export function describeHv(h: HvConfig): string {
  if (h.mode === 'bare') return 'bare machine';
  return `hypervisor: ${h.vms} VM${h.vms > 1 ? 's' : ''}, cpu=${h.cpu}, paging=${h.paging}, sched=${h.sched}`;
}
