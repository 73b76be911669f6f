// Counts a teacher can predict, from fixtures/hv/count-pages.asm (phases marked on port 0x80):
// N fresh pages → N hidden faults under shadow and N EPT violations under nested, 0 on a second
// pass; a write to the guest's own page table → one write-protect exit; MOV CR3 → an exit under
// shadow only. A/D bits land in the guest's own tables as on bare metal.
import { describe, expect, it } from 'vitest';
import { hvKernel, runBare } from './hv-helpers.ts';
import { Hypervisor, type PagingTechnique } from '../../src/hypervisor/index.ts';
import { maskOf, type TraceEvent } from '../../src/trace/schema.ts';

const NPAGES = 16;
const FRESH = 0x500000;
const PT1 = 0x302000;

interface Phase { hidden: number; hiddenInRange: number; ept: number; eptInRange: number; crWrites3: number; exits: number; ptWrites: number }

async function countPhases(paging: PagingTechnique): Promise<{ phases: Phase[]; serial: string; pte: number; hv: Hypervisor }> {
  const image = await hvKernel('count-pages');
  const hv = new Hypervisor();
  const phases: Phase[] = [];
  let cur: Phase | null = null;
  const inRange = (a: number) => a >= FRESH && a < FRESH + NPAGES * 4096;
  hv.emitter.listen({
    mask: maskOf(['io', 'pagefault', 'exit', 'shadow']),
    onEvent(ev: TraceEvent) {
      if (ev.kind === 'io' && ev.port === 0x80 && ev.dir === 'out') {
        cur = { hidden: 0, hiddenInRange: 0, ept: 0, eptInRange: 0, crWrites3: 0, exits: 0, ptWrites: 0 };
        phases[ev.value] = cur;
        return;
      }
      if (cur === null) return;
      if (ev.kind === 'pagefault' && ev.outcome === 'hidden') { cur.hidden++; if (inRange(ev.linear)) cur.hiddenInRange++; }
      if (ev.kind === 'pagefault' && ev.outcome === 'ept-violation') { cur.ept++; if (inRange(ev.physical ?? 0)) cur.eptInRange++; }
      if (ev.kind === 'shadow' && ev.op === 'invalidate' && ev.guestTable !== undefined) cur.ptWrites++;
      if (ev.kind === 'exit' && ev.reason !== 'IO_INSTRUCTION') {
        cur.exits++;
        // Qualification as VT-x: bits 3:0 CR number, 5:4 access type (0 = MOV to CR).
        if (ev.reason === 'CR_ACCESS' && (ev.qualification & 0xf) === 3 && ((ev.qualification >> 4) & 3) === 0) cur.crWrites3++;
      }
    },
  });
  const vm = hv.addVm({ image, paging, memoryBytes: 16 << 20 });
  hv.run();
  const pte = vm.gmem.read32(PT1 + ((FRESH - 0x400000) >> 12) * 4);
  return { phases, serial: vm.serialText, pte, hv };
}

describe('predictable counts', () => {
  it('shadow paging: N hidden faults, then 0; a page-table write traps; CR3 reload exits', async () => {
    const { phases, serial, pte } = await countPhases('shadow');
    const bare = runBare(await hvKernel('count-pages'), 10_000_000, 16 << 20);
    expect(serial).toBe(bare.serial);
    expect(phases[1]!.hiddenInRange).toBe(NPAGES);
    expect(phases[1]!.hidden).toBe(NPAGES);
    expect(phases[2]!.hidden).toBe(0);
    expect(phases[2]!.exits).toBe(0);
    expect(phases[3]!.ptWrites).toBe(1);
    expect(phases[4]!.crWrites3).toBe(1);
    expect(pte & 0x60).toBe(0x60); // A and D set in the guest's own PTE
  });

  it('nested paging: N EPT violations, then 0; no exit for page-table writes or CR3', async () => {
    const { phases, serial, pte } = await countPhases('nested');
    const bare = runBare(await hvKernel('count-pages'), 10_000_000, 16 << 20);
    expect(serial).toBe(bare.serial);
    expect(phases[1]!.eptInRange).toBe(NPAGES);
    expect(phases[1]!.ept).toBe(NPAGES);
    expect(phases[2]!.ept).toBe(0);
    expect(phases[2]!.exits).toBe(0);
    expect(phases[3]!.exits).toBe(0);
    expect(phases[4]!.exits).toBe(0);
    expect(pte & 0x60).toBe(0x60);
  });

  // The second fresh page: its nested directory entry exists (the first page made it), its nested
  // PTE does not, so the walk is complete: 3 nested translations of 2 references + 2 guest entries.
  it('a nested walk reports (n+1)(m+1)-1 = 8 references for a 4 KiB page', async () => {
    const image = await hvKernel('count-pages');
    const hv = new Hypervisor();
    const walks: TraceEvent[] = [];
    let phase = 0;
    hv.emitter.listen({
      mask: maskOf(['io', 'walk']),
      onEvent(ev) {
        if (ev.kind === 'io' && ev.port === 0x80 && ev.dir === 'out') phase = ev.value;
        else if (ev.kind === 'walk' && phase === 1 && ev.linear === FRESH + 4096) walks.push(ev);
      },
    });
    hv.addVm({ image, paging: 'nested', memoryBytes: 16 << 20 });
    hv.run();
    const dims = walks.map((w) => (w.kind === 'walk' ? w.dimension : ''));
    expect(dims.length).toBe(8);
    expect(dims.filter((d) => d === 'guest').length).toBe(2);
    expect(dims.filter((d) => d === 'nested').length).toBe(6);
  });
});

describe('true faults and INVLPG (fixtures/kernels/paging.asm)', () => {
  it('every #PF the kernel sees on bare metal is exactly one injected fault under shadow paging', async () => {
    const { fixtureKernel } = await import('./hv-helpers.ts');
    const { Machine } = await import('../../src/machine/machine.ts');
    const image = await fixtureKernel('paging');
    const bare = new Machine({ memoryBytes: 64 << 20 });
    let barePf = 0;
    bare.emitter.on(['exception'], (ev) => { if (ev.kind === 'exception' && ev.vector === 14) barePf++; });
    bare.load(image, { kind: 'multiboot' });
    bare.run(50_000_000);
    expect(barePf).toBeGreaterThan(5);

    const hv = new Hypervisor();
    let guestPf = 0;
    hv.emitter.on(['exception'], (ev) => { if (ev.kind === 'exception' && ev.vector === 14) guestPf++; });
    const shadow = hv.addVm({ image, paging: 'shadow' });
    hv.run();
    expect(shadow.stats.injectedFaults).toBe(barePf);
    expect(guestPf).toBe(barePf);
    expect(shadow.stats.exitsOf('INVLPG')).toBeGreaterThan(0);

    const hv2 = new Hypervisor();
    const nested = hv2.addVm({ image, paging: 'nested' });
    hv2.run();
    expect(nested.stats.exitsOf('INVLPG')).toBe(0);
    expect(nested.stats.exitsOf('CR_ACCESS')).toBe(0);
    expect(nested.stats.exitsOf('EXCEPTION_NMI')).toBe(0);
  });
});
