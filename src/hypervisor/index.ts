// The hypervisor's public surface.
export { Hypervisor, type HypervisorOptions, type HypervisorResult } from './hypervisor.ts';
export { Vm, type VmConfig, type VmEnd, type CpuTechnique, type PagingTechnique } from './vm.ts';
export { VmStats } from './stats.ts';
export { DEFAULT_COSTS, costTable, type CostTable } from './costs.ts';
export { NONE_FRAME } from './p2m.ts';
export { VMM_GDT_BASE, VMM_IDT_BASE } from './emulate.ts';
export { SHADOW_ROOTS, TABLE_FRAME_BUDGET } from './shadow.ts';
