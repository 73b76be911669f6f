// Shared by the hypervisor tests: building guest kernels with NASM and running them bare or
// under the hypervisor, with their serial output and how they ended.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleFile, REPO_ROOT } from '../helpers/nasm.ts';
import { buildKernel } from '../helpers/kernels.ts';
import { Machine, type BootMode, type RunResult } from '../../src/machine/machine.ts';
import { Hypervisor, type HypervisorOptions, type VmConfig, type Vm } from '../../src/hypervisor/index.ts';

export const HV_FIXTURES = join(REPO_ROOT, 'fixtures', 'hv');

/** fixtures/hv/NAME.asm (includes resolve against fixtures/kernels) as image bytes. */
export async function hvKernel(name: string): Promise<Uint8Array> {
  const { out } = await assembleFile(join(HV_FIXTURES, `${name}.asm`), { outName: `hv-${name}.bin` });
  return new Uint8Array(readFileSync(out));
}

/** A fixture kernel of the machine issue (fixtures/kernels/NAME.asm) as image bytes. */
export async function fixtureKernel(name: string): Promise<Uint8Array> {
  const built = await buildKernel(name);
  return new Uint8Array(readFileSync(built.image));
}

/** How a run ended, in the same words for bare metal and a VM. */
export type Ending = string;

export function bareEnding(r: RunResult): Ending {
  switch (r.reason) {
    case 'debug-exit': return `debug-exit ${r.code}`;
    case 'halted': return `halted ${r.interruptsEnabled}`;
    default: return r.reason;
  }
}

export function vmEnding(vm: Vm): Ending {
  const e = vm.end;
  if (e === null) return 'running';
  switch (e.reason) {
    case 'debug-exit': return `debug-exit ${e.code}`;
    case 'halted': return `halted ${e.interruptsEnabled}`;
    case 'killed': return `killed: ${e.message}`;
    default: return e.reason;
  }
}

export function runBare(image: Uint8Array, maxInstructions = 200_000_000, memoryBytes = 64 << 20, boot: BootMode = { kind: 'multiboot' }): { serial: string; ending: Ending } {
  let serial = '';
  const m = new Machine({ memoryBytes, serial: (t) => { serial += t; } });
  m.load(image, boot);
  const ending = bareEnding(m.run(maxInstructions));
  return { serial, ending };
}

export function runHv(configs: VmConfig[], opts: HypervisorOptions = {}, maxTicks = Infinity): { hv: Hypervisor; vms: Vm[] } {
  const hv = new Hypervisor(opts);
  const vms = configs.map((c) => hv.addVm(c));
  hv.run(maxTicks);
  return { hv, vms };
}
