// What the hypervisor reports about faults and exits, held to oracles that are not the code under
// test: the bare machine's own #PF reports (exact EIPs, one per fault), and a debugger hook that
// sees every instruction start (an event found during a TLB miss must name the instruction the
// hook saw last; the fast path, where EIP is only updated per decoded block, must report the
// same). Also: INVLPG exits name the address, a triple fault is one shutdown event, and
// `vizor run --hv … | head` ends quietly.
import { describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fixtureKernel, hvKernel } from './hv-helpers.ts';
import { REPO_ROOT } from '../helpers/nasm.ts';
import { Hypervisor, type PagingTechnique } from '../../src/hypervisor/index.ts';
import { Machine } from '../../src/machine/machine.ts';
import { maskOf, type EventKind, type TraceEvent } from '../../src/trace/schema.ts';

function collectHv(image: Uint8Array, paging: PagingTechnique, kinds: EventKind[], hooked = false): { events: TraceEvent[]; serial: string; started: number[] } {
  const hv = new Hypervisor();
  const events: TraceEvent[] = [];
  /** Per event: the EIP of the last instruction the hook saw start (-1 without the hook). */
  const started: number[] = [];
  let current = -1;
  hv.emitter.listen({ mask: maskOf(kinds), onEvent: (e) => { events.push(e); started.push(current); } });
  const vm = hv.addVm({ image, paging, maxInstructions: 50_000_000 });
  if (hooked) vm.cpu.hooks = { beforeInstruction: (c) => { current = c.eip >>> 0; return false; } };
  hv.run();
  hv.release();
  return { events, serial: vm.serialText, started };
}

function collectBare(image: Uint8Array, kinds: EventKind[]): TraceEvent[] {
  const m = new Machine({ memoryBytes: 64 << 20 });
  const events: TraceEvent[] = [];
  m.emitter.listen({ mask: maskOf(kinds), onEvent: (e) => { events.push(e); } });
  m.load(image, { kind: 'multiboot' });
  m.run(50_000_000);
  return events;
}

const pagefaults = (events: TraceEvent[], outcome: string) =>
  events.flatMap((e) => (e.kind === 'pagefault' && e.outcome === outcome ? [{ linear: e.linear, errorCode: e.errorCode, eip: e.eip }] : []));

/** Exits and page faults found during TLB misses, with the EIP each reports. */
const missReports = (events: TraceEvent[]) =>
  events.flatMap((e) => {
    if (e.kind === 'pagefault') return [`pf ${e.outcome} ${e.linear.toString(16)} @${e.eip.toString(16)}`];
    if (e.kind === 'exit' && (e.reason === 'EXCEPTION_NMI' || e.reason === 'EPT_VIOLATION')) return [`exit ${e.reason} ${(e.guestLinear ?? 0).toString(16)} @${e.eip.toString(16)}`];
    return [];
  });

describe('page faults under the hypervisor', () => {
  it('shadow: each #PF the bare machine reports is one injected fault, at the same EIP, and never also a bare one', async () => {
    const image = await fixtureKernel('paging');
    const bare = pagefaults(collectBare(image, ['pagefault']), 'bare');
    expect(bare.length).toBeGreaterThan(5);
    const { events } = collectHv(image, 'shadow', ['pagefault', 'exception']);
    expect(pagefaults(events, 'injected')).toEqual(bare);
    expect(pagefaults(events, 'bare')).toEqual([]);
    // The CPU still reports the exception it delivers, once per fault, at the same EIP.
    const delivered = events.flatMap((e) => (e.kind === 'exception' && e.vector === 14 ? [e.eip] : []));
    expect(delivered).toEqual(bare.map((f) => f.eip));
  });

  it('nested: the guest\'s own faults never leave guest mode and are reported as on bare metal', async () => {
    const image = await fixtureKernel('paging');
    const bare = pagefaults(collectBare(image, ['pagefault']), 'bare');
    const { events } = collectHv(image, 'nested', ['pagefault']);
    expect(pagefaults(events, 'bare')).toEqual(bare);
    expect(pagefaults(events, 'injected')).toEqual([]);
  });

  for (const paging of ['shadow', 'nested'] as const) {
    it(`${paging}: hidden faults, injected faults and EPT violations name the faulting instruction, as the hooked path does`, async () => {
      for (const image of [await fixtureKernel('paging'), await hvKernel('count-pages')]) {
        const fast = collectHv(image, paging, ['pagefault', 'exit']);
        const hooked = collectHv(image, paging, ['pagefault', 'exit'], true);
        expect(fast.serial).toBe(hooked.serial);
        const reports = missReports(fast.events);
        expect(reports.length).toBeGreaterThan(10);
        expect(reports).toEqual(missReports(hooked.events));
        // Data accesses: the instruction the hook saw start. (Instruction fetches miss before the
        // hook sees the instruction they fetch: those name the fetched instruction, on its page.)
        const misses = hooked.events.flatMap((e, i) => {
          if (e.kind !== 'pagefault' && !(e.kind === 'exit' && (e.reason === 'EXCEPTION_NMI' || e.reason === 'EPT_VIOLATION'))) return [];
          const linear = e.kind === 'pagefault' ? e.linear : e.guestLinear!;
          const fetch = linear >>> 12 === e.eip >>> 12 || linear >>> 12 === (e.eip + 14) >>> 12;
          return fetch ? [] : [{ eip: e.eip, linear, started: hooked.started[i] }];
        });
        expect(misses.length).toBeGreaterThan(10);
        expect(misses.filter((m) => m.eip !== m.started)).toEqual([]);
      }
    });
  }
});

describe('the hooked loop\'s instruction bookkeeping', () => {
  it('leaves virtual time alone: the same events at the same ticks with a no-op hook, bare and in a VM', async () => {
    const stamp = (events: TraceEvent[]) => events.map((e) => `${e.kind}@${e.tick}`).join(',');
    const bare = (image: Uint8Array, kinds: EventKind[], hooked: boolean) => {
      const m = new Machine({ memoryBytes: 64 << 20 });
      const events: TraceEvent[] = [];
      m.emitter.listen({ mask: maskOf(kinds), onEvent: (e) => { events.push(e); } });
      m.load(image, { kind: 'multiboot' });
      if (hooked) m.cpu.hooks = { beforeInstruction: () => false };
      m.run(50_000_000);
      return stamp(events);
    };
    // A timer kernel (interrupts between blocks) and, bare, a paging one (TLB fills and faults
    // found mid-block, where the running instruction's count must not be added twice).
    for (const [name, kinds] of [['pit-timer', ['interrupt', 'io']], ['paging', ['tlb', 'pagefault', 'exception']]] as const) {
      const image = await fixtureKernel(name);
      const fastBare = bare(image, [...kinds], false);
      expect(fastBare.split(',').length).toBeGreaterThan(20);
      expect(bare(image, [...kinds], true), name).toBe(fastBare);
    }
    // In a VM, host ticks also count the VMM's modelled work, which differs with the TLB misses
    // each loop happens to take; the timer kernel's events come at the same ticks all the same.
    const image = await fixtureKernel('pit-timer');
    for (const paging of ['shadow', 'nested'] as const) {
      const fast = collectHv(image, paging, ['interrupt', 'io']);
      const hooked = collectHv(image, paging, ['interrupt', 'io'], true);
      expect(hooked.serial).toBe(fast.serial);
      expect(stamp(hooked.events), paging).toBe(stamp(fast.events));
    }
  });
});

describe('INVLPG exits', () => {
  it('carry the linear address in the qualification and guestLinear, as Intel\'s do', async () => {
    const image = await fixtureKernel('paging');
    const { events } = collectHv(image, 'shadow', ['exit', 'tlb']);
    const invlpgs = events.filter((e) => e.kind === 'exit' && e.reason === 'INVLPG');
    expect(invlpgs.length).toBeGreaterThan(0);
    for (const x of invlpgs) {
      if (x.kind !== 'exit') continue;
      expect(x.guestLinear).toBeDefined();
      expect(x.qualification).toBe(x.guestLinear);
      // The TLB entry the VMM dropped for it is that address's.
      const i = events.indexOf(x);
      const dropped = events.slice(0, i).reverse().find((e) => e.kind === 'tlb' && e.op === 'invlpg');
      expect(dropped && dropped.kind === 'tlb' ? dropped.linear : -1).toBe(x.guestLinear);
    }
  });
});

describe('a triple fault', () => {
  it('is one shutdown event, bare and in a VM', async () => {
    const image = await fixtureKernel('triple-fault');
    const bare = collectBare(image, ['shutdown']);
    expect(bare.map((e) => (e.kind === 'shutdown' ? e.reason : ''))).toEqual(['triple-fault']);
    for (const paging of ['shadow', 'nested'] as const) {
      const { events } = collectHv(image, paging, ['shutdown']);
      expect(events.map((e) => (e.kind === 'shutdown' ? e.reason : ''))).toEqual(['triple-fault']);
    }
  });
});

describe('vizor run --hv | head', () => {
  it('a reader that goes away is not an error: no EPIPE, the run ends with its own status', async () => {
    const cmd = `node ${join(REPO_ROOT, 'bin/vizor.mjs')} run --hv --vms 4 ${join(REPO_ROOT, 'fixtures/kernels/alu-flags.asm')} | head -n 1; echo "status=\${PIPESTATUS[0]}" >&2`;
    const r = await new Promise<{ out: string; err: string }>((done) => {
      const p = spawn('bash', ['-c', cmd], { cwd: REPO_ROOT });
      let out = '', err = '';
      p.stdout.on('data', (d) => { out += d; });
      p.stderr.on('data', (d) => { err += d; });
      p.on('close', () => done({ out, err }));
    });
    expect(r.out).toBe('[vm0] alu-flags\n');
    expect(r.err).toBe(`status=${(0x11 << 1) | 1}\n`);
  }, 60_000);
});
