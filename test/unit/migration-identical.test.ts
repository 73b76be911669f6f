// Live migration must be invisible to the guest: a VM migrated from one host to another (each its
// own Hypervisor with its own host memory) prints exactly what the same kernel prints without a
// migration, ends the same way, and its memory at the end is the same; at the pre-copy switch-over
// the destination's memory equals the source's (no page lost). CPU-bound and memory-writing
// kernels, shadow and nested paging, pre-copy and post-copy.
import { describe, expect, it } from 'vitest';
import { Hypervisor, type PagingTechnique } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { Migration } from '../../src/migration/engine.ts';
import { guestMemoryChecksum } from '../../src/migration/vm-state.ts';

const MB = { kind: 'multiboot' as const, cmdline: 'k ' };
const HOST = 96 << 20;
const LINK = { bandwidthBitsPerSecond: 100e6, latencyNs: 1e6 };

async function unmigrated(file: string, paging: PagingTechnique) {
  const image = await readImage(file);
  const host = new Hypervisor({ hostMemoryBytes: HOST });
  const vm = host.addVm({ image, boot: MB, paging });
  host.run();
  const r = { image, serial: vm.serialText, end: vm.end, sum: guestMemoryChecksum(vm), regs: vm.cpu.getState() };
  host.release();
  return r;
}

const CASES = [
  { file: 'fixtures/migration/cpu-bound.asm', at: 1_000_000 },
  { file: 'fixtures/migration/writer.asm', at: 12_000_000 },
];

describe.concurrent('a migrated VM behaves as if nothing happened', () => {
  for (const { file, at } of CASES) {
    for (const paging of ['shadow', 'nested'] as const) {
      it(`${file}, ${paging} paging, pre-copy and post-copy`, async () => {
        const ref = await unmigrated(file, paging);
        expect(ref.end?.reason).toBe('debug-exit');
        for (const mode of ['precopy', 'postcopy'] as const) {
          const a = new Hypervisor({ hostMemoryBytes: HOST }), b = new Hypervisor({ hostMemoryBytes: HOST });
          const src = a.addVm({ image: ref.image, boot: MB, paging });
          expect(driveVm(a, src, { instructions: at })).toBe('reached');
          const m = new Migration(a, src, b, { link: LINK, mode, maxDowntimeNs: 5e6 });
          const r = m.run({ image: ref.image, boot: MB, paging });
          if (mode === 'precopy') {
            expect(r.switchover).toBe('converged');
            expect(r.destChecksum).toBe(r.sourceChecksum);
          } else {
            expect(r.remoteFaults).toBeGreaterThan(0);
          }
          const dst = m.dst!;
          expect(src.state).toBe('exited');
          driveVm(b, dst, {});
          expect(src.serialText.length).toBeGreaterThan(0);
          expect(src.serialText + dst.serialText, mode).toBe(ref.serial);
          expect(dst.end, mode).toEqual(ref.end);
          expect(guestMemoryChecksum(dst), mode).toBe(ref.sum);
          expect(dst.cpu.getState(), mode).toEqual(ref.regs);
          a.release();
          b.release();
        }
      });
    }
  }
});

describe.concurrent('every CPU technique survives the move', () => {
  for (const cpu of ['deprivilege', 'bt'] as const) {
    for (const file of ['fixtures/kernels/usermode-syscalls.asm', 'fixtures/kernels/exceptions.asm']) {
      it(`${file} with --cpu ${cpu}, pre-copy and post-copy`, async () => {
        const image = await readImage(file);
        const refHost = new Hypervisor({ hostMemoryBytes: HOST });
        const ref = refHost.addVm({ image, boot: MB, cpu });
        refHost.run();
        expect(ref.end?.reason).toBe('debug-exit');
        for (const mode of ['precopy', 'postcopy'] as const) {
          const a = new Hypervisor({ hostMemoryBytes: HOST }), b = new Hypervisor({ hostMemoryBytes: HOST });
          const src = a.addVm({ image, boot: MB, cpu });
          expect(driveVm(a, src, { instructions: 10_000 })).toBe('reached');
          const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: 10e9, latencyNs: 5_000 }, mode, maxDowntimeNs: 0, maxRounds: 4 });
          m.run({ image, boot: MB, cpu });
          const dst = m.dst!;
          driveVm(b, dst, {});
          expect(src.serialText + dst.serialText, mode).toBe(ref.serialText);
          expect(dst.end, mode).toEqual(ref.end);
          expect(guestMemoryChecksum(dst), mode).toBe(guestMemoryChecksum(ref));
          a.release();
          b.release();
        }
        refHost.release();
      });
    }
  }
});
