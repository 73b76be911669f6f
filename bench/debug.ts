// bench/debug: what the debugger engine costs.
//   (a) step latency: median µs of one stepInto / stepOver on the engine (real machine);
//   (b) reverse-step latency 10 million instructions into a run (target <= 50 ms, median);
//   (c) snapshot memory for a 100-million-instruction history (target <= 64 MB), on a CPU-bound
//       kernel and on a memory-heavy one (8 MiB rewritten over and over: the worst case);
//       with the reverse-step latency at the end of that history.
//   (d) continue with a breakpoint set (the CPU's hooked path), with a read watchpoint (plus the
//       CPU's access reports) and hook-free, in MIPS.
// Run: npx tsx bench/debug.ts [--quick]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Debugger, type DebuggerOptions } from '../src/debug/debugger.ts';
import { Machine } from '../src/machine/machine.ts';

const quick = process.argv.includes('--quick');
const ROOT = join(import.meta.dirname, '..');
const KERNELS = join(ROOT, 'fixtures', 'kernels');
const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mb = (bytes: number): string => (bytes / 1048576).toFixed(1);

function build(name: string): Uint8Array {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-bench-dbg-')), `${name}.bin`);
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, join(ROOT, 'fixtures', 'bench', `${name}.asm`)]);
  return new Uint8Array(readFileSync(out));
}

function boot(image: Uint8Array, opts: DebuggerOptions = {}): { m: Machine; d: Debugger } {
  const m = new Machine({ memoryBytes: 64 << 20 });
  m.load(image, { kind: 'multiboot' });
  return { m, d: new Debugger(m, opts) };
}

/** Runs forward to instruction `n` in engine-sized chunks; returns wall ms. */
function runTo(d: Debugger, m: Machine, n: number): number {
  const t = now();
  while (m.cpu.instructions < n) {
    const s = d.continue(n - m.cpu.instructions);
    if (s.reason !== 'budget') break;
  }
  return now() - t;
}

function stepLatency(d: Debugger, what: 'stepInto' | 'stepOver' | 'stepBack', count: number): number {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = now();
    d[what]();
    times.push(now() - t);
  }
  return median(times);
}

const loop = build('loop');
const memory = build('memory');

// (a) + (b): 10 million instructions into the CPU-bound loop.
{
  const { m, d } = boot(loop);
  const ms = runTo(d, m, 10_000_000);
  const into = stepLatency(d, 'stepInto', quick ? 200 : 2000) * 1000;
  const over = stepLatency(d, 'stepOver', quick ? 200 : 2000) * 1000;
  // Reverse-step cost depends on the distance to the snapshot before: sample offsets across one interval.
  const backs: number[] = [];
  const interval = d.history.options.interval;
  for (let k = 0; k < (quick ? 5 : 21); k++) {
    d.goTo(10_000_000 + Math.floor(((k + 0.5) * interval) / (quick ? 5 : 21)));
    const t = now();
    d.stepBack();
    backs.push(now() - t);
  }
  const back = median(backs);
  const worst = Math.max(...backs);
  const h = d.state().history;
  console.log(`(a) step latency (engine): stepInto ${into.toFixed(1)} µs, stepOver ${over.toFixed(1)} µs (median)`);
  console.log(`(b) reverse step 10M instructions into a run: ${back.toFixed(1)} ms median, ${worst.toFixed(1)} ms worst (target <= 50 ms)` +
    `  [run to 10M with history: ${ms.toFixed(0)} ms, ${h.snapshots} snapshots, interval ${d.history.options.interval}]`);
}

// (c): 100 million instructions of history.
for (const [name, image] of [['loop', loop], ['memory', memory]] as const) {
  const { m, d } = boot(image);
  const n = quick ? 20_000_000 : 100_000_000;
  const ms = runTo(d, m, n);
  const h = d.state().history;
  const back = stepLatency(d, 'stepBack', quick ? 3 : 7);
  // Anywhere in that history: go to seeded points, time one step back from each.
  const anywhere: number[] = [];
  let seed = 7;
  for (let k = 0; k < (quick ? 3 : 9); k++) {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    d.goTo(1 + (seed % (n - 1)));
    const t = now();
    d.stepBack();
    anywhere.push(now() - t);
  }
  console.log(`(c) ${name}: history of ${(n / 1e6).toFixed(0)}M instructions: ${mb(h.bytes)} MB in ${h.snapshots} snapshots ` +
    `(${d.history.uniquePages} unique pages; target <= 64 MB); oldest kept at ${(h.start / 1e6).toFixed(1)}M; run took ${ms.toFixed(0)} ms;\n` +
    `    reverse step at the end ${back.toFixed(1)} ms, at random points of the history ${median(anywhere).toFixed(1)} ms median, ${Math.max(...anywhere).toFixed(1)} ms worst`);
}

// (d): what a breakpoint and a read watchpoint cost while running (MIPS by wall and by process
// CPU time, which is steadier on a busy machine).
{
  const { m, d } = boot(loop, { snapshotInterval: 0 });
  runTo(d, m, 1_000_000);
  const n = quick ? 300_000 : 2_000_000;
  const mips = (count: number): { wall: number; cpu: number } => {
    const t = now();
    const c0 = process.cpuUsage();
    d.continue(count);
    const c = process.cpuUsage(c0);
    return { wall: count / (now() - t) / 1000, cpu: count / ((c.user + c.system) / 1000) / 1000 };
  };
  const fmt = (r: { wall: number; cpu: number }): string => `${r.wall.toFixed(1)} MIPS wall, ${r.cpu.toFixed(1)} MIPS cpu-time`;
  const id = d.addBreakpoint({ location: { kind: 'linear', address: 0x10 } }); // never reached
  const hooked = mips(n);
  d.removeBreakpoint(id);
  const w = d.addWatchpoint({ kind: 'read', address: 0x10, length: 4 }); // never read
  const watched = mips(n);
  d.removeBreakpoint(w);
  const free = mips(n * 20);
  console.log(`(d) continue with a breakpoint set (hooked path): ${fmt(hooked)}\n` +
    `    with a read watchpoint (hooked path + access reports): ${fmt(watched)}\n    without either: ${fmt(free)}`);
}
