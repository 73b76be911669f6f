// A BIOS ROM image boots in a VM from the reset vector exactly as on the bare machine: the VM's
// guest-physical top of 4 GiB is a read-only host window holding the ROM, the RAM copy below
// 1 MiB is ordinary guest memory (fixtures/hv/rom.asm checks both from inside the guest).
import { describe, expect, it } from 'vitest';
import { hvKernel, runBare, runHv, vmEnding } from './hv-helpers.ts';
import { parseHvArgs, runHypervisor } from '../../src/cli/hv.ts';

const ROM = { kind: 'rom' } as const;

describe('ROM images under the hypervisor', () => {
  it('boots from the reset vector with the same serial output and ending as bare metal', async () => {
    const image = await hvKernel('rom');
    expect(image.length).toBe(65536);
    const bare = runBare(image, 20_000_000, 64 << 20, ROM);
    expect(bare.ending).toBe('debug-exit 33');
    expect(bare.serial).toContain('rom: a write to the alias is ignored\n');
    expect(bare.serial).toContain('rom: done\n');
    for (const cpu of ['vtx', 'bt'] as const) {
      for (const paging of ['shadow', 'nested'] as const) {
        const { vms } = runHv([{ image, boot: ROM, cpu, paging, maxInstructions: 20_000_000 }]);
        expect({ mode: `${cpu}x${paging}`, serial: vms[0]!.serialText, ending: vmEnding(vms[0]!) })
          .toEqual({ mode: `${cpu}x${paging}`, serial: bare.serial, ending: bare.ending });
      }
    }
  });

  it('two ROM VMs side by side each get their own read-only ROM', async () => {
    const image = await hvKernel('rom');
    const bare = runBare(image, 20_000_000, 64 << 20, ROM);
    const { vms } = runHv([0, 1].map(() => ({ image, boot: ROM, maxInstructions: 20_000_000 })), { quantum: 5_000 });
    for (const vm of vms) expect({ serial: vm.serialText, ending: vmEnding(vm) }).toEqual({ serial: bare.serial, ending: bare.ending });
  });

  it('vizor run --hv --rom: status and prefixed output as bare', async () => {
    const image = await hvKernel('rom');
    const bare = runBare(image, 20_000_000, 64 << 20, ROM);
    const out: string[] = [], err: string[] = [];
    const parsed = parseHvArgs(['--rom', 'rom.bin']);
    if (typeof parsed === 'string') throw new Error(parsed);
    const status = await runHypervisor({ ...parsed.rest, images: [{ path: 'rom.bin', bytes: image }], stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    expect(err.join('')).toBe('');
    expect(status).toBe((33 << 1) | 1);
    expect(out.join('')).toBe(bare.serial.split('\n').filter((l) => l !== '').map((l) => `[vm0] ${l}\n`).join(''));
  });
});
