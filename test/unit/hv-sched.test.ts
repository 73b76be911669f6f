// Scheduling several VMs on the one CPU: credit shares follow the weights, a halting VM gives its
// time away, round-robin is fair, and a cap limits a VM even when the CPU would idle.
import { describe, expect, it } from 'vitest';
import { hvKernel, runHv } from './hv-helpers.ts';
import { Hypervisor } from '../../src/hypervisor/index.ts';

const TICKS = 30_000_000;
const shares = (ticks: number[]) => {
  const total = ticks.reduce((a, b) => a + b, 0);
  return ticks.map((t) => t / total);
};

describe('schedulers', () => {
  it('credit with weights 1:2:4 gives shares within 5 % of 1/7, 2/7, 4/7', async () => {
    const image = await hvKernel('spin');
    const { vms } = runHv([1, 2, 4].map((w) => ({ image, weight: w * 64, memoryBytes: 4 << 20 })), { sched: 'credit' }, TICKS);
    const s = shares(vms.map((v) => v.stats.ticks));
    [1 / 7, 2 / 7, 4 / 7].forEach((want, i) => expect(Math.abs(s[i]! - want) / want).toBeLessThan(0.05));
  });

  it('round-robin is fair between CPU-bound VMs', async () => {
    const image = await hvKernel('spin');
    const { vms } = runHv([0, 1, 2].map(() => ({ image, memoryBytes: 4 << 20 })), { sched: 'rr' }, TICKS);
    for (const s of shares(vms.map((v) => v.stats.ticks))) expect(Math.abs(s - 1 / 3)).toBeLessThan(0.01);
  });

  for (const sched of ['rr', 'credit'] as const) {
    it(`${sched}: a halting VM gives its time away`, async () => {
      const spin = await hvKernel('spin');
      const idle = await hvKernel('idle');
      const hv = new Hypervisor({ sched });
      const reasons: string[] = [];
      hv.emitter.on(['sched'], (ev) => { if (ev.kind === 'sched') reasons.push(ev.reason); });
      const a = hv.addVm({ image: spin, memoryBytes: 4 << 20 });
      const b = hv.addVm({ image: idle, memoryBytes: 4 << 20 });
      hv.run(TICKS);
      expect(a.stats.ticks / (a.stats.ticks + b.stats.ticks)).toBeGreaterThan(0.9);
      expect(b.stats.exitsOf('HLT')).toBeGreaterThan(10);
      expect(b.stats.interruptsInjected).toBeGreaterThan(10);
      expect(hv.idleTicks).toBe(0);
      expect(reasons).toContain('halt');
      expect(reasons).toContain('wake');
      expect(reasons).toContain('quantum');
    });
  }

  it('credit: a cap of 25 % holds even when nobody else wants the CPU', async () => {
    const image = await hvKernel('spin');
    const hv = new Hypervisor({ sched: 'credit' });
    const vm = hv.addVm({ image, cap: 25, memoryBytes: 4 << 20 });
    hv.run(TICKS);
    const share = vm.stats.ticks / (vm.stats.ticks + hv.idleTicks);
    expect(Math.abs(share - 0.25)).toBeLessThan(0.02);
  });
});
