// The lessons' HvRunner on vizor's hypervisor (src/hypervisor): one Hypervisor per check run, one
// VM per kernel, every event into the check's emitter. Kept apart from runner.ts so that the
// lesson checker itself never depends on the hypervisor being there.
import { Hypervisor, type VmConfig } from '../hypervisor/index.ts';
import type { HvRunner, VmEnd } from './runner.ts';

function endOf(end: Hypervisor['vms'][number]['end']): VmEnd {
  if (end === null) return { reason: 'instruction-limit' }; // the run's budget ran out first
  switch (end.reason) {
    case 'debug-exit':
      return { reason: 'debug-exit', code: end.code };
    case 'killed':
      return { reason: 'killed', message: end.message };
    default:
      return { reason: end.reason };
  }
}

export const hypervisorRunner: HvRunner = (req) => {
  const hv = new Hypervisor({ emitter: req.emitter, sched: req.settings.sched });
  try {
    for (const vm of req.vms) {
      const config: VmConfig = {
        name: vm.name,
        image: vm.image,
        boot: vm.boot,
        memoryBytes: vm.memoryBytes,
        cpu: req.settings.cpu,
        paging: req.settings.paging,
      };
      if (vm.weight !== undefined) config.weight = vm.weight;
      if (vm.cap !== undefined) config.cap = vm.cap;
      hv.addVm(config);
    }
    hv.run(req.maxInstructions);
    return { vms: hv.vms.map((v) => endOf(v.end)) };
  } finally {
    hv.release();
  }
};
