// The `yield` scheduling reason: VT-x PAUSE-loop exiting. A guest kernel spinning with PAUSE
// (lesson 9's spinlock.asm waits for a lock its timer interrupt releases) exits with
// PAUSE_INSTRUCTION once a loop outlasts the PLE window, and the scheduler runs another VM: the
// spinner stays runnable, keeps the credits it did not use, and its output stays bare metal's.
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { assembleFile, REPO_ROOT } from '../helpers/nasm.ts';
import { hvKernel, runBare, runHv, vmEnding } from './hv-helpers.ts';
import { Hypervisor, DEFAULT_COSTS, type CpuTechnique, type PagingTechnique, type Vm } from '../../src/hypervisor/index.ts';

/** Lesson 9's spinning guest (the one kernel the lesson and these tests share). */
async function spinlockKernel(): Promise<Uint8Array> {
  const { out } = await assembleFile(join(REPO_ROOT, 'lessons', '09-scheduling', 'spinlock.asm'), { outName: 'lesson09-spinlock.bin' });
  return new Uint8Array(readFileSync(out));
}

/** The PAUSE count the kernel prints ("pauses=XXXXXXXX"). */
const pausesOf = (serial: string): number => parseInt(/pauses=([0-9a-f]{8})/.exec(serial)![1]!, 16);
/** Instructions per turn of the kernel's spin loop: pause; inc esi; cmp [lock], 0; jne. */
const LOOP = 4;
/**
 * The teacher's prediction: a PAUSE loop exits each time it has spun longer than the window, i.e.
 * every (window + LOOP) instructions of spinning, and spinning is LOOP instructions per PAUSE.
 */
const predictedExits = (pauses: number): number => Math.floor((pauses * LOOP) / (DEFAULT_COSTS.pleWindow + LOOP));

function track(hv: Hypervisor): { yields: { from: number; to: number }[]; pauseExits: number[] } {
  const out = { yields: [] as { from: number; to: number }[], pauseExits: [] as number[] };
  hv.emitter.on(['sched', 'exit'], (ev) => {
    if (ev.kind === 'sched' && ev.reason === 'yield') out.yields.push({ from: ev.from, to: ev.to });
    if (ev.kind === 'exit' && ev.reason === 'PAUSE_INSTRUCTION') out.pauseExits.push(ev.vm);
  });
  return out;
}

describe('PAUSE-loop exiting and the yield reason', () => {
  it('the spinning kernel prints bare metal\'s output in every mode; vtx and bt exit as predicted, deprivilege never', async () => {
    const image = await spinlockKernel();
    const bare = runBare(image, 20_000_000);
    expect(bare.ending).toBe('debug-exit 27');
    expect(bare.serial).toContain('acquired=00000014');
    const pauses = pausesOf(bare.serial);
    expect(pauses).toBeGreaterThan(100_000); // 20 waits of ~1 ms of spinning each
    const modes: [CpuTechnique, PagingTechnique][] = [['vtx', 'shadow'], ['vtx', 'nested'], ['bt', 'shadow'], ['deprivilege', 'shadow']];
    for (const [cpu, paging] of modes) {
      const { vms } = runHv([{ image, cpu, paging, maxInstructions: 20_000_000 }]);
      const vm = vms[0]!;
      expect({ mode: `${cpu}x${paging}`, serial: vm.serialText, ending: vmEnding(vm) }).toEqual({ mode: `${cpu}x${paging}`, serial: bare.serial, ending: bare.ending });
      const want = cpu === 'deprivilege' ? 0 : predictedExits(pauses); // a ring-1 PAUSE traps nothing
      // Timer interrupts taken inside the loop add a few instructions to some windows.
      expect(Math.abs(vm.stats.exitsOf('PAUSE_INSTRUCTION') - want), `${cpu}x${paging}`).toBeLessThanOrEqual(Math.ceil(want * 0.01));
      expect(vm.stats.pauseExits).toBe(vm.stats.exitsOf('PAUSE_INSTRUCTION'));
    }
  });

  it('round-robin: the spinner yields at each PAUSE-loop exit and the CPU-bound VM gets its time', async () => {
    const spinlock = await spinlockKernel();
    const spin = await hvKernel('spin');
    const run = (cpu: CpuTechnique, TICKS: number) => {
      const hv = new Hypervisor({ sched: 'rr' });
      const t = track(hv);
      const waiter = hv.addVm({ image: spinlock, cpu, memoryBytes: 4 << 20 });
      const hog = hv.addVm({ image: spin, cpu, memoryBytes: 4 << 20 });
      hv.run(TICKS);
      return { t, waiter, hog, share: waiter.stats.ticks / (waiter.stats.ticks + hog.stats.ticks), hogRate: hog.stats.instructions / TICKS };
    };
    const vtx = run('vtx', 4_000_000);
    // Each PAUSE-loop exit is one yield, from the spinner to the other VM.
    expect(vtx.t.pauseExits.length).toBeGreaterThan(20);
    expect(vtx.t.pauseExits.every((vm) => vm === 0)).toBe(true);
    expect(vtx.t.yields).toEqual(vtx.t.pauseExits.map(() => ({ from: 0, to: 1 })));
    // The spinner runs about one PLE window (plus its exit, ~5,200 ticks) per round, the hog a
    // whole quantum (100,000 ticks): about 5 %, a little more with its start-up I/O.
    expect(vtx.share).toBeLessThan(0.08);
    expect(vtx.waiter.state).toBe('runnable'); // it yielded; it never blocked
    // Without PAUSE-loop exiting (a deprivileged kernel's PAUSE is a plain NOP) it burns half
    // (over a shorter run: at half the CPU it is done spinning after about 1.4 M ticks).
    const dep = run('deprivilege', 1_200_000);
    expect(dep.waiter.state).toBe('runnable');
    expect(dep.t.yields).toEqual([]);
    expect(dep.t.pauseExits).toEqual([]);
    expect(Math.abs(dep.share - 0.5)).toBeLessThan(0.02);
    expect(vtx.hogRate / dep.hogRate).toBeGreaterThan(1.6); // about 0.95 / 0.5 of the CPU
  });

  it('credit: a yield keeps the credits the spinner did not use, and it still finishes as on bare metal', async () => {
    const spinlock = await spinlockKernel();
    const spin = await hvKernel('spin');
    const bare = runBare(spinlock, 20_000_000);
    const hv = new Hypervisor({ sched: 'credit' });
    const t = track(hv);
    const waiter: Vm = hv.addVm({ image: spinlock, memoryBytes: 4 << 20 });
    const hog = hv.addVm({ image: spin, memoryBytes: 4 << 20, maxInstructions: 40_000_000 });
    let waiterDoneAt = -1;
    hv.emitter.on(['shutdown'], (ev) => { if (ev.vm === 0) waiterDoneAt = ev.tick; });
    hv.run(60_000_000);
    expect({ serial: waiter.serialText, ending: vmEnding(waiter) }).toEqual({ serial: bare.serial, ending: bare.ending });
    expect(t.yields.length).toBe(waiter.stats.pauseExits);
    expect(t.yields.length).toBeGreaterThan(100);
    // While both ran, the waiter used a small share; charged only for what it ran, it stayed in
    // credit (UNDER), so it was picked again as soon as the hog's quantum ended.
    expect(waiterDoneAt).toBeGreaterThan(0);
    expect(waiter.stats.ticks / waiterDoneAt).toBeLessThan(0.1);
    const credits = hv.scheduler.credits!(hv.vms);
    expect(credits[0]!).toBeGreaterThan(0);
    expect(credits[0]!).toBeGreaterThan(credits[1]!);
    expect(hog.end).toEqual({ reason: 'instruction-limit' });
  });
});
