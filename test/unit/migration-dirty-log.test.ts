// The write-protect dirty log (src/migration/dirty-log.ts) against the plain truth: in every
// pre-copy round the engine also compares each page with the copy already sent, and no page whose
// contents changed may be missing from the log. Kernels that turn paging on (the VMM then sets
// A/D bits in guest tables behind the TLB's back), switch to user mode, and take timer interrupts
// (stack writes by interrupt delivery), under shadow and nested paging. The migrated run must
// still print and end exactly as the unmigrated one.
import { describe, expect, it } from 'vitest';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { readImage } from '../../src/cli/image.ts';
import { driveVm } from '../../src/migration/driver.ts';
import { Migration } from '../../src/migration/engine.ts';
import { guestMemoryChecksum } from '../../src/migration/vm-state.ts';

const MB = { kind: 'multiboot' as const, cmdline: 'k ' };
const HOST = 96 << 20;
const CASES = [
  { file: 'fixtures/kernels/paging.asm', at: 8_000, bw: 10e9 },
  { file: 'fixtures/kernels/usermode-syscalls.asm', at: 5_000, bw: 10e9 },
  { file: 'fixtures/kernels/pit-timer.asm', at: 2_000, bw: 500e6 }, // ~1 ms rounds while it sleeps between 1 kHz ticks
  { file: 'fixtures/migration/writer-small.asm', at: 300_000, bw: 10e9 }, // second pass: pages mapped already
];

describe.concurrent('the write-protect dirty log misses no written page', () => {
  for (const { file, at, bw } of CASES) {
    for (const paging of ['shadow', 'nested'] as const) {
      it(`${file} under ${paging} paging`, async () => {
        const image = await readImage(file);
        const refHost = new Hypervisor({ hostMemoryBytes: HOST });
        const ref = refHost.addVm({ image, boot: MB, paging });
        refHost.run();
        expect(ref.end?.reason).toBe('debug-exit');
        const a = new Hypervisor({ hostMemoryBytes: HOST }), b = new Hypervisor({ hostMemoryBytes: HOST });
        const src = a.addVm({ image, boot: MB, paging });
        expect(driveVm(a, src, { instructions: at })).toBe('reached');
        // A zero downtime budget: rounds go on (up to 6) while the kernel works.
        const m = new Migration(a, src, b, {
          link: { bandwidthBitsPerSecond: bw, latencyNs: 5_000 }, mode: 'precopy', maxDowntimeNs: 0, maxRounds: 6, verify: true,
        });
        const r = m.run({ image, boot: MB, paging });
        expect(r.switchover).not.toBe('source-ended');
        expect(r.rounds.length).toBeGreaterThanOrEqual(2);
        for (const round of r.rounds) expect(round.missedByLog, `round ${round.round}`).toBe(0);
        // Protected pages written again exit to the VMM (charged, counted), as on hardware.
        if (r.rounds.some((x) => x.dirtyAfter > 0)) expect(r.protectionExits).toBeGreaterThan(0);
        expect(r.destChecksum).toBe(r.sourceChecksum);
        const dst = m.dst!;
        driveVm(b, dst, {});
        expect(src.serialText + dst.serialText).toBe(ref.serialText);
        expect(dst.end).toEqual(ref.end);
        expect(guestMemoryChecksum(dst)).toBe(guestMemoryChecksum(ref));
        refHost.release();
        a.release();
        b.release();
      });
    }
  }
});
