// Shadow paging's cache of shadow roots (KVM/VMware keep the shadows of recent address spaces):
// fixtures/hv/cr3-switch.asm switches between two address spaces round after round. Without the
// cache every switch rebuilds the shadow fault by fault; with it, after the first round no hidden
// fault is left, every switch is still a CR_ACCESS exit, and a guest write to a page table of a
// cached (not running) address space still reaches that address space's shadow.
import { describe, expect, it } from 'vitest';
import { HV_FIXTURES, hvKernel, runBare, vmEnding } from './hv-helpers.ts';
import { assembleSource } from '../helpers/nasm.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';
import { maskOf, type TraceEvent } from '../../src/trace/schema.ts';
import { captureHost, restoreHost } from '../../src/debug/vcpu-snapshot.ts';

const ROUNDS = 8;
const NPAGES = 16;
const VIRT = 0x800000;

interface Phase { hidden: number; hiddenAtVirt: number; cr3Exits: number; flushes: number; hits: number; ptWrites: number }

async function run(shadowRoots: number, image?: Uint8Array) {
  image ??= await hvKernel('cr3-switch');
  const hv = new Hypervisor();
  const phases: Phase[] = [];
  let cur: Phase | null = null;
  hv.emitter.listen({
    mask: maskOf(['io', 'pagefault', 'exit', 'shadow']),
    onEvent(ev: TraceEvent) {
      if (ev.kind === 'io' && ev.port === 0x80 && ev.dir === 'out') {
        phases[ev.value] = cur = { hidden: 0, hiddenAtVirt: 0, cr3Exits: 0, flushes: 0, hits: 0, ptWrites: 0 };
        return;
      }
      if (cur === null) return;
      if (ev.kind === 'pagefault' && ev.outcome === 'hidden' && ev.errorCode !== 3) {
        cur.hidden++;
        if (ev.linear >= VIRT && ev.linear < VIRT + (NPAGES + 1) * 4096) cur.hiddenAtVirt++;
      }
      if (ev.kind === 'exit' && ev.reason === 'CR_ACCESS' && (ev.qualification & 0xf) === 3 && ((ev.qualification >> 4) & 3) === 0) cur.cr3Exits++;
      if (ev.kind === 'shadow' && ev.op === 'flush') cur.flushes++;
      if (ev.kind === 'shadow' && ev.op === 'resync') cur.hits++;
      if (ev.kind === 'shadow' && ev.op === 'invalidate' && ev.guestTable !== undefined) cur.ptWrites++;
    },
  });
  const vm = hv.addVm({ image, memoryBytes: 16 << 20, shadowRoots });
  hv.run();
  return { phases, vm, image };
}

describe('the shadow-root cache', () => {
  it('after the first round a switch back to a recent address space takes no hidden fault', async () => {
    const { phases, vm, image } = await run(4);
    const bare = runBare(image, 10_000_000, 16 << 20);
    expect(bare.serial).toContain('B-extra-before=aaaa0001 B-extra-after=bbbb0002');
    expect({ serial: vm.serialText, ending: vmEnding(vm) }).toEqual({ serial: bare.serial, ending: bare.ending });
    // Round 1 builds B's shadow from scratch (A's was built when paging came on): its NPAGES
    // pages and the extra one fault in; A's NPAGES too (first touch).
    expect(phases[1]!.hiddenAtVirt).toBe(2 * NPAGES + 1);
    for (let r = 2; r <= ROUNDS; r++) {
      expect({ r, ...phases[r]! }).toEqual({ r, hidden: 0, hiddenAtVirt: 0, cr3Exits: 2, flushes: 0, hits: 2, ptWrites: 0 });
    }
    // The write to B's page table while A runs traps and zaps B's cached entry: one refill in B.
    expect(phases[ROUNDS + 1]).toEqual({ hidden: 1, hiddenAtVirt: 1, cr3Exits: 2, flushes: 0, hits: 2, ptWrites: 1 });
    expect(vm.stats.shadowCacheHits).toBeGreaterThanOrEqual(2 * ROUNDS + 2);
  });

  it('with one root (no cache) every round rebuilds both address spaces', async () => {
    const { phases, vm, image } = await run(1);
    const bare = runBare(image, 10_000_000, 16 << 20);
    expect(vm.serialText).toBe(bare.serial);
    for (let r = 2; r <= ROUNDS; r++) {
      expect(phases[r]!.cr3Exits).toBe(2);
      expect(phases[r]!.flushes).toBe(2);
      expect(phases[r]!.hits).toBe(0);
      // NPAGES + B's extra page, plus the kernel's own code, stack and data in each space.
      expect(phases[r]!.hiddenAtVirt).toBe(2 * NPAGES + 1);
      expect(phases[r]!.hidden).toBeGreaterThan(2 * NPAGES + 1);
    }
    // The one hit: round 1 reloads the address space paging was turned on in (the only root).
    expect(vm.stats.shadowCacheHits).toBe(1);
  });

  it('the cache costs fewer modelled cycles and never holds more table frames than one VM is promised', async () => {
    const cached = await run(4);
    const plain = await run(1);
    expect(cached.vm.stats.hiddenFaults).toBeLessThan(plain.vm.stats.hiddenFaults / 4);
    expect(cached.vm.stats.overheadCycles).toBeLessThan(plain.vm.stats.overheadCycles / 2);
    expect(cached.vm.paging.tableFrames).toBeLessThanOrEqual(1025);
  });

  // fixtures/hv/cr3-lru.asm visits SPACES address spaces in turn, 4 pages each at VIRT.
  for (const spaces of [4, 5]) {
    it(`${spaces} address spaces in turn: ${spaces === 4 ? 'all stay cached' : 'LRU evicts the one needed next, every switch rebuilds'}`, async () => {
      const image = await assembleSource(`%define SPACES ${spaces}\n%include "cr3-lru.asm"\n`, `cr3-lru-${spaces}`, { includeDirs: [HV_FIXTURES] });
      const { phases, vm } = await run(4, image);
      const bare = runBare(image, 10_000_000, 16 << 20);
      expect({ serial: vm.serialText, ending: vmEnding(vm) }).toEqual({ serial: bare.serial, ending: bare.ending });
      for (let r = 2; r <= 4; r++) {
        const p = phases[r]!;
        if (spaces === 4) expect({ r, hiddenAtVirt: p.hiddenAtVirt, hits: p.hits, flushes: p.flushes }).toEqual({ r, hiddenAtVirt: 0, hits: 4, flushes: 0 });
        else expect({ r, hiddenAtVirt: p.hiddenAtVirt, hits: p.hits, flushes: p.flushes }).toEqual({ r, hiddenAtVirt: 5 * 4, hits: 0, flushes: 5 });
        expect(p.cr3Exits).toBe(spaces);
      }
      expect(vm.paging.tableFrames).toBe(4 * 3); // 4 roots: a directory and 2 tables each
    });
  }

  it('survives the debugger\'s host snapshots: restored mid-run, the rest of the run is the same', async () => {
    const image = await hvKernel('cr3-switch');
    const hv = new Hypervisor({ quantum: 200 }); // alone, a VM runs 50 quanta at a time
    const vm = hv.addVm({ image, memoryBytes: 16 << 20 });
    expect(hv.run(310_000).reason).toBe('tick-limit'); // in the rounds: both roots cached
    expect(vm.stats.shadowCacheHits).toBeGreaterThan(2);
    const snap = captureHost(hv, null);
    const finish = () => {
      hv.run();
      return { serial: vm.serialText, ending: vmEnding(vm), hidden: vm.stats.hiddenFaults, hits: vm.stats.shadowCacheHits, frames: vm.paging.tableFrames, ticks: vm.stats.ticks };
    };
    const first = finish();
    restoreHost(hv, snap);
    expect(finish()).toEqual(first);
    expect(first.serial).toBe(runBare(image, 10_000_000, 16 << 20).serial);
  });
});
