// Snapshot round trips: run to completion vs. save at a seeded random instruction count, write the
// .vzs bytes, read them back into a fresh machine (or a fresh host's VM) and run on. The serial
// output must be identical and so must the final state (a hash of the whole machine snapshot /
// the VM's memory checksum and registers).
import { describe, expect, it } from 'vitest';
import { Hypervisor, type PagingTechnique } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { guestMemoryChecksum } from '../../src/migration/vm-state.ts';
import { loadVmFile, restoreVmInto, saveVm } from '../../src/migration/snapshot.ts';

const KERNELS = ['fixtures/migration/cpu-bound.asm', 'fixtures/migration/writer-small.asm', 'fixtures/kernels/pit-timer.asm'];
const MB = { kind: 'multiboot' as const, cmdline: 'k ' };

/** A small seeded generator (no Math.random: the points must be the same on every run). */
function points(seed: number, n: number, max: number): number[] {
  let s = seed >>> 0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out.push(1 + (s % Math.max(1, max - 1)));
  }
  return out;
}

function vmReference(image: Uint8Array, paging: PagingTechnique) {
  const hv = new Hypervisor({ hostMemoryBytes: 96 << 20 });
  const vm = hv.addVm({ image, boot: MB, paging });
  hv.run();
  const out = { serial: vm.serialText, end: vm.end, instructions: vm.cpu.instructions, sum: guestMemoryChecksum(vm), regs: vm.cpu.getState() };
  hv.release();
  return out;
}

describe.concurrent('VM snapshot round trip under the hypervisor', () => {
  for (const paging of ['shadow', 'nested'] as const) {
    for (const file of KERNELS) {
      it(`${file} (${paging}, restored under the other technique too)`, async () => {
        const image = await readImage(file);
        const ref = vmReference(image, paging);
        expect(ref.end?.reason).toBe('debug-exit');
        for (const n of points(file.length * 104729 + paging.length, 1, ref.instructions)) {
          const hostA = new Hypervisor({ hostMemoryBytes: 96 << 20 });
          const a = hostA.addVm({ image, boot: MB, paging });
          expect(driveVm(hostA, a, { instructions: n })).toBe('reached');
          expect(a.cpu.instructions).toBe(n);
          const bytes = saveVm(a, image, { image: file, boot: MB, memoryBytes: 64 << 20, hv: { cpu: 'vtx', paging } });
          hostA.release();
          for (const restorePaging of [paging, paging === 'shadow' ? 'nested' : 'shadow'] as const) {
            const { header, payload } = loadVmFile(bytes);
            const hostB = new Hypervisor({ hostMemoryBytes: 96 << 20 });
            const b = hostB.addVm({ image: payload.image, boot: header.boot, paging: restorePaging });
            restoreVmInto(b, payload);
            hostB.run();
            expect(b.end).toEqual(ref.end);
            expect(a.serialText + b.serialText).toBe(ref.serial);
            expect(b.cpu.instructions).toBe(ref.instructions);
            expect(guestMemoryChecksum(b)).toBe(ref.sum);
            expect(b.cpu.getState()).toEqual(ref.regs);
            hostB.release();
          }
        }
      });
    }
  }
});
