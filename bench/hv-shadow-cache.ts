// bench/hv-shadow-cache: what the cache of shadow roots buys on a context-switch-heavy kernel
// (fixtures/hv/cr3-switch.asm: two address spaces taking turns, ROUNDS rounds) and what it costs
// on bench/hv's page-table-heavy kernel (fixtures/bench/pagefault.asm, one address space). For
// each: guest MIPS bare and under vtx x shadow with 1 root (no cache: every CR3 switch rebuilds)
// and 4 roots (the default), hidden faults, exits, CR3 cache hits and modelled VMM overhead.
// Run: npx tsx bench/hv-shadow-cache.ts [--quick]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Machine } from '../src/machine/machine.ts';
import { Hypervisor } from '../src/hypervisor/index.ts';

const ROOT = resolve(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const scratch = mkdtempSync(join(tmpdir(), 'vizor-bench-shadow-cache-'));

function assemble(path: string, defines: string[] = []): Uint8Array {
  const out = join(scratch, path.replace(/\W/g, '_') + '.bin');
  execFileSync('nasm', ['-f', 'bin', ...defines, '-I', join(ROOT, 'fixtures/kernels/'), '-o', out, join(ROOT, path)]);
  return new Uint8Array(readFileSync(out));
}

function cpuSeconds<T>(f: () => T): [T, number] {
  const c0 = process.cpuUsage();
  const r = f();
  const c = process.cpuUsage(c0);
  return [r, (c.user + c.system) / 1e6];
}

function bare(image: Uint8Array): { mips: number; serial: string } {
  let serial = '';
  const m = new Machine({ memoryBytes: 64 << 20, serial: (t) => (serial += t) });
  m.load(image, { kind: 'multiboot' });
  const [, s] = cpuSeconds(() => m.run(2e9));
  return { mips: m.cpu.instructions / s / 1e6, serial };
}

function underHv(image: Uint8Array, shadowRoots: number) {
  const hv = new Hypervisor({ hostMemoryBytes: 128 << 20 });
  const vm = hv.addVm({ image, paging: 'shadow', shadowRoots, maxInstructions: 2e9 });
  const [, s] = cpuSeconds(() => hv.run());
  const st = vm.stats;
  return {
    mips: vm.cpu.instructions / s / 1e6, serial: vm.serialText, hidden: st.hiddenFaults, exits: st.exits,
    hits: st.shadowCacheHits, flushes: st.shadowFlushes, overhead: st.overheadCycles / st.ticks, ticks: st.ticks,
  };
}

const rounds = quick ? 500 : 5000;
const kernels: [string, Uint8Array][] = [
  [`context-switch-heavy (cr3-switch.asm, ${rounds} rounds of A/B)`, assemble('fixtures/hv/cr3-switch.asm', [`-DROUNDS=${rounds}`])],
  ['page-table-heavy (bench/pagefault.asm)', assemble('fixtures/bench/pagefault.asm')],
];
for (const [label, image] of kernels) {
  const b = bare(image);
  console.log(`\n${label}: bare ${b.mips.toFixed(1)} MIPS`);
  for (const roots of [1, 4]) {
    const f = underHv(image, roots);
    console.log(`  vtx x shadow, ${roots} root${roots > 1 ? 's' : ' '} ${f.mips.toFixed(1).padStart(7)} MIPS  ${(f.mips / b.mips).toFixed(3)}x bare  ` +
      `hidden faults ${String(f.hidden).padStart(8)}  exits ${String(f.exits).padStart(8)}  CR3 cache hits ${String(f.hits).padStart(6)}  ` +
      `shadow flushes ${String(f.flushes).padStart(6)}  host ticks ${(f.ticks / 1e6).toFixed(1)} M  overhead ${(100 * f.overhead).toFixed(1)} %  ` +
      `${f.serial === b.serial ? 'same output' : 'OUTPUT DIFFERS'}`);
  }
}
console.log('\n(MIPS = guest instructions / process CPU time; overhead = modelled VMM cycles / host ticks, src/hypervisor/costs.ts)');
