// Isolation: hostile guests (fixtures/hv/hostile-*.asm) run beside a well-behaved VM. The good
// VM's output is what it is alone, every VM's memory checksum is what it is alone (nobody wrote
// into anybody else), the hypervisor never throws, and each hostile VM ends with a clear reason.
import { describe, expect, it } from 'vitest';
import { fixtureKernel, hvKernel, vmEnding } from './hv-helpers.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique, type VmConfig } from '../../src/hypervisor/index.ts';

const HOSTILE: Record<string, RegExp> = {
  'hostile-past-memory': /^debug-exit 64$/,
  'hostile-pt-huge': /^debug-exit 65$/,
  'hostile-pt-foreign': /^debug-exit 66$/,
  'hostile-garbage-cr3': /^triple-fault$/,
  'hostile-port-flood': /^(triple-fault|instruction-limit|reset)$/,
  'hostile-cpuid-storm': /^instruction-limit$/,
  'hostile-triple-fault': /^triple-fault$/,
  'hostile-selfmod-pt': /^debug-exit 71$/,
  'hostile-read-host': /^debug-exit 72$/,
  'hostile-hog': /^instruction-limit$/,
  'hostile-wrmsr': /^triple-fault$/,
  'hostile-halt': /^halted false$/,
};
const LIMIT = 2_000_000;

async function configs(cpu: CpuTechnique, paging: PagingTechnique): Promise<VmConfig[]> {
  const good: VmConfig = { name: 'good', image: await fixtureKernel('usermode-syscalls'), cpu, paging, maxInstructions: 50_000_000 };
  const bad = await Promise.all(Object.keys(HOSTILE).map(async (name) => ({
    name, image: await hvKernel(name), cpu, paging, memoryBytes: 8 << 20, maxInstructions: LIMIT,
  } as VmConfig)));
  return [good, ...bad];
}

function runAlone(c: VmConfig): { serial: string; checksum: number; ending: string } {
  const hv = new Hypervisor({ hostMemoryBytes: 128 << 20 });
  const vm = hv.addVm(c);
  hv.run();
  return { serial: vm.serialText, checksum: vm.gmem.checksum(), ending: vmEnding(vm) };
}

describe('hostile guests beside a good one', () => {
  for (const [cpu, paging] of [['vtx', 'shadow'], ['vtx', 'nested'], ['deprivilege', 'shadow']] as [CpuTechnique, PagingTechnique][]) {
    it(`${cpu} x ${paging}: isolation holds and the hypervisor never throws`, async () => {
      const all = await configs(cpu, paging);
      expect(all.length).toBeGreaterThanOrEqual(9);
      const alone = all.map(runAlone);
      const hv = new Hypervisor({ sched: 'rr', quantum: 5_000 });
      const vms = all.map((c) => hv.addVm(c));
      expect(() => hv.run()).not.toThrow();
      vms.forEach((vm, i) => {
        expect({ vm: vm.name, serial: vm.serialText, checksum: vm.gmem.checksum() })
          .toEqual({ vm: vm.name, serial: alone[i]!.serial, checksum: alone[i]!.checksum });
        if (i > 0) expect(vmEnding(vm)).toMatch(HOSTILE[vm.name]!);
        expect(vm.describeEnd().length).toBeGreaterThan(0);
      });
      expect(vmEnding(vms[0]!)).toBe('debug-exit 22');
      // No host frame belongs to two VMs.
      const owner = new Map<number, number>();
      vms.forEach((vm, i) => vm.gmem.p2m.forEach((f) => {
        if (f === 0) return;
        expect(owner.get(f)).toBeUndefined();
        owner.set(f, i);
      }));
    });
  }
});

describe('random code', () => {
  it('VMs executing random bytes in ring 0 never take the hypervisor down or touch the good VM', async () => {
    const { mkdtempSync, writeFileSync, readFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { assembleFile } = await import('../helpers/nasm.ts');
    const dir = mkdtempSync(join(tmpdir(), 'vizor-hv-random-'));
    let seed = 0x12345678;
    const rnd = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed >>> 24; };
    const images: Uint8Array[] = [];
    for (let k = 0; k < 8; k++) {
      const bytes = Array.from({ length: 4096 }, rnd).join(',');
      writeFileSync(join(dir, `r${k}.asm`), `%include "lib/mb.inc"\nSTART\n    db ${bytes}\n%include "lib/end.inc"\n`);
      const { out } = await assembleFile(join(dir, `r${k}.asm`), { outName: `hv-random-${k}.bin` });
      images.push(new Uint8Array(readFileSync(out)));
    }
    for (const paging of ['shadow', 'nested'] as const) {
      const good: VmConfig = { name: 'good', image: await fixtureKernel('usermode-syscalls'), paging, maxInstructions: 50_000_000 };
      const alone = runAlone(good);
      const hv = new Hypervisor({ quantum: 5_000 });
      const vms = [good, ...images.map((image, k) => ({ name: `random${k}`, image, paging, memoryBytes: 8 << 20, maxInstructions: 500_000 }))]
        .map((c) => hv.addVm(c));
      expect(() => hv.run()).not.toThrow();
      expect(vms[0]!.serialText).toBe(alone.serial);
      expect(vms[0]!.gmem.checksum()).toBe(alone.checksum);
      for (const vm of vms) expect(vm.state).toBe('exited');
      for (const vm of vms.slice(1)) expect(vm.end!.reason).not.toBe('killed');
    }
  });
});
