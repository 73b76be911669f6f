// A BIOS ROM image boots in a VM from the reset vector exactly as on the bare machine: the VM's
// guest-physical top of 4 GiB is a read-only host window holding the ROM, the RAM copy below
// 1 MiB is ordinary guest memory (fixtures/hv/rom.asm checks both from inside the guest).
import { describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hvKernel, runBare, runHv, vmEnding } from './hv-helpers.ts';
import { scratchDir } from '../helpers/nasm.ts';
import { QEMU, qemuVersion } from '../helpers/qemu.ts';
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
    // The oracle: QEMU booting the same image as its BIOS prints the same and exits (0x21<<1)|1.
    qemuVersion(); // a clear failure when QEMU is missing
    const path = join(scratchDir(), 'hv-rom.bin');
    writeFileSync(path, image);
    const qemu = await new Promise<{ stdout: string; status: number | null }>((resolve) => {
      execFile(QEMU, ['-accel', 'tcg', '-bios', path, '-display', 'none', '-no-reboot', '-monitor', 'none', '-serial', 'stdio',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4'], { timeout: 20_000 }, (err, stdout) => {
        resolve({ stdout, status: err === null ? 0 : typeof err.code === 'number' ? err.code : null });
      });
    });
    expect(qemu).toEqual({ stdout: bare.serial, status: (33 << 1) | 1 });
    for (const cpu of ['vtx', 'bt', 'deprivilege'] as const) {
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
