// bench/cpu: guest MIPS of the CPU on the bench kernels (fixtures/bench/*.asm, Multiboot images
// assembled with nasm): the CPU-bound loop without hooks and with a no-op debugger hook, the
// memory-heavy and the page-fault-heavy kernels; and, where qemu-system-i386 is installed, the
// same kernels in QEMU (TCG) in the same run, with the ratio. Run: npx tsx bench/cpu.ts [--quick]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Machine } from '../src/machine/machine.ts';

const ROOT = resolve(import.meta.dirname, '..');
const quick = process.argv.includes('--quick');
const scratch = mkdtempSync(join(tmpdir(), 'vizor-bench-cpu-'));

function assemble(name: string): Uint8Array {
  const out = join(scratch, `${name}.bin`);
  execFileSync('nasm', [
    '-f',
    'bin',
    '-I',
    join(ROOT, 'fixtures/kernels/'),
    '-I',
    join(ROOT, 'fixtures/kernels/lib/'),
    '-o',
    out,
    join(ROOT, 'fixtures/bench', `${name}.asm`),
  ]);
  return new Uint8Array(readFileSync(out));
}

interface Result {
  instructions: number;
  wallS: number;
  cpuS: number;
  serial: string;
  reason: string;
}

function runVizor(image: Uint8Array, hooked: boolean, limit: number): Result {
  let serial = '';
  const m = new Machine({ memoryBytes: 64 << 20, serial: (t) => (serial += t) });
  m.load(image, { kind: 'multiboot' });
  if (hooked) m.cpu.hooks = { beforeInstruction: () => false };
  const i0 = m.cpu.instructions;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const r = m.run(limit);
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return {
    instructions: m.cpu.instructions - i0,
    wallS,
    cpuS: (c.user + c.system) / 1e6,
    serial,
    reason: r.reason,
  };
}

function qemuSeconds(file: string): number | null {
  const probe = spawnSync('qemu-system-i386', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) return null;
  const args = [
    '-accel',
    'tcg',
    '-m',
    '64',
    '-display',
    'none',
    '-no-reboot',
    '-monitor',
    'none',
    '-serial',
    'null',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=4',
  ];
  const time = (extra: string[]) => {
    const t0 = performance.now();
    spawnSync('timeout', ['120', 'qemu-system-i386', ...args, ...extra], { encoding: 'utf8' });
    return (performance.now() - t0) / 1000;
  };
  // QEMU's start-up (about 0.1 s, QEMU-NOTES.md) measured with a kernel that exits at once.
  const startup = time(['-kernel', join(scratch, 'exit.bin')]);
  return Math.max(0.001, time(['-kernel', file]) - startup);
}

function exitKernel(): void {
  const src = join(scratch, 'exit.asm');
  const text = `%include "lib/mb.inc"\nSTART\n    EXIT 0x10\n%include "lib/end.inc"\n`;
  writeFileSync(src, text);
  execFileSync('nasm', [
    '-f',
    'bin',
    '-I',
    join(ROOT, 'fixtures/kernels/'),
    '-I',
    join(ROOT, 'fixtures/kernels/lib/'),
    '-o',
    join(scratch, 'exit.bin'),
    src,
  ]);
}

const mips = (n: number, s: number) => (n / 1e6 / s).toFixed(1);

try {
  exitKernel();
  const loop = assemble('loop');
  const limit = quick ? 200_000_000 : Infinity;
  const rows: string[] = [];
  const report = (label: string, r: Result, qemuS: number | null) => {
    const ours = r.instructions / 1e6 / r.wallS;
    let line = `${label.padEnd(26)} ${(r.instructions / 1e6).toFixed(0).padStart(6)} M instr  ${mips(r.instructions, r.wallS).padStart(7)} MIPS wall  ${mips(r.instructions, r.cpuS).padStart(7)} MIPS cpu-time  (${r.reason})`;
    if (qemuS !== null) {
      const q = r.instructions / 1e6 / qemuS;
      line += `  | QEMU ${q.toFixed(0)} MIPS, vizor/QEMU = ${(ours / q).toFixed(3)}`;
    }
    rows.push(line);
    console.log(line);
  };
  const loopFile = join(scratch, 'loop.bin');
  const qLoop = quick ? null : qemuSeconds(loopFile);
  report('loop (no hooks)', runVizor(loop, false, limit), qLoop);
  report('loop (no-op hook)', runVizor(loop, true, quick ? 100_000_000 : 400_000_000), null);
  for (const name of ['memory', 'pagefault']) {
    const img = assemble(name);
    const q = quick ? null : qemuSeconds(join(scratch, `${name}.bin`));
    report(name, runVizor(img, false, limit), q);
  }
  console.log(
    '\n(MIPS cpu-time = instructions / process CPU time: steadier than wall time on a busy machine.)',
  );
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
