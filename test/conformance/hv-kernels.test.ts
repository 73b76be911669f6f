// Every fixture kernel of the machine issue runs unchanged under the hypervisor with the same
// serial output and the same ending as on the bare machine (which the qemu-kernels test holds
// to QEMU's recorded output), for vtx×shadow, vtx×nested and bt×shadow; under deprivilege for the
// kernels that use no sensitive instruction, and visibly differently for those that do.
import { describe, expect, it } from 'vitest';
import { fixtureKernel, runBare, runHv, vmEnding } from '../unit/hv-helpers.ts';
import type { CpuTechnique, PagingTechnique } from '../../src/hypervisor/index.ts';
import type { BootMode } from '../../src/machine/machine.ts';

// The boot sector runs on the BIOS the VM carries over from its loader (src/hypervisor/vbios.ts).
const KERNELS = ['alu-flags', 'muldiv-shifts', 'strings-stack', 'exceptions', 'paging', 'usermode-syscalls',
  'pit-timer', 'segments-descriptors', 'bitops-misc', 'multiboot-elf', 'bootsector', 'triple-fault', 'runaway'];
const bootOf = (name: string): BootMode => (name === 'bootsector' ? { kind: 'boot-sector' } : { kind: 'multiboot' });
const MODES: [CpuTechnique, PagingTechnique][] = [['vtx', 'shadow'], ['vtx', 'nested'], ['bt', 'shadow'], ['bt', 'nested']];
/** Kernels whose output reveals a sensitive instruction run at ring 1 (SGDT, SLDT, STR, LAR, MOV from CS...). */
const USES_SENSITIVE = new Set(['strings-stack', 'segments-descriptors']);
const LIMIT = 20_000_000;

describe('fixture kernels under the hypervisor', () => {
  for (const name of KERNELS) {
    it(`${name}: same serial output and ending as bare metal`, async () => {
      const image = await fixtureKernel(name);
      const boot = bootOf(name);
      const bare = runBare(image, LIMIT, 64 << 20, boot);
      expect(bare.serial.length).toBeGreaterThan(0);
      for (const [cpu, paging] of MODES) {
        const { vms } = runHv([{ image, boot, cpu, paging, maxInstructions: LIMIT }]);
        expect({ mode: `${cpu}x${paging}`, serial: vms[0]!.serialText, ending: vmEnding(vms[0]!) })
          .toEqual({ mode: `${cpu}x${paging}`, serial: bare.serial, ending: bare.ending });
      }
      for (const paging of ['shadow', 'nested'] as const) {
        const { vms } = runHv([{ image, boot, cpu: 'deprivilege', paging, maxInstructions: LIMIT }]);
        if (USES_SENSITIVE.has(name)) {
          expect(vms[0]!.serialText).not.toEqual(bare.serial);
          expect(vms[0]!.stats.holeHits).toBeGreaterThan(0);
        } else {
          expect({ serial: vms[0]!.serialText, ending: vmEnding(vms[0]!) }).toEqual({ serial: bare.serial, ending: bare.ending });
        }
      }
    });
  }
});

describe('fixture kernels side by side', () => {
  it('all of them at once under round-robin: each VM\'s output is its bare-metal output', async () => {
    const names = KERNELS.filter((k) => k !== 'runaway');
    const images = await Promise.all(names.map(fixtureKernel));
    const bare = images.map((img, i) => runBare(img, LIMIT, 64 << 20, bootOf(names[i]!)));
    for (const [cpu, paging] of [['vtx', 'shadow'], ['vtx', 'nested']] as const) {
      const { vms } = runHv(images.map((image, i) => ({ image, boot: bootOf(names[i]!), cpu, paging, maxInstructions: LIMIT })), { quantum: 10_000, hostMemoryBytes: 1 << 30 });
      vms.forEach((vm, i) => expect({ k: names[i], serial: vm.serialText, ending: vmEnding(vm) })
        .toEqual({ k: names[i], serial: bare[i]!.serial, ending: bare[i]!.ending }));
    }
  });
});
