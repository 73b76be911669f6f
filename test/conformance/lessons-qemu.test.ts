// The lessons' kernels against oracles nobody here wrote: NASM must assemble each kernel to the
// same bytes as vizor's assembler, and QEMU must print the same serial output and exit with the
// same status as vizor's bare machine does in the lesson check. Two differences are known and
// asserted as such: SeaBIOS does not mirror INT 10h teletype output to COM1 (vizor's BIOS does,
// so lesson 11 is compared by exit status only), and QEMU's default CPU model sets the CPUID
// "hypervisor present" bit (lesson 0 prints it).
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { diskFiles } from '../../src/cli/lesson.ts';
import { buildKernel, listLessons, runBare, type Lesson, type RunSpec } from '../../src/lessons/index.ts';
import { assembleFile, REPO_ROOT, scratchDir } from '../helpers/nasm.ts';
import { runQemu } from '../helpers/qemu.ts';

const ROOT = join(REPO_ROOT, 'lessons');
const files = diskFiles(ROOT);
const lessons: Lesson[] = listLessons(files).flatMap((e) => ('lesson' in e ? [e.lesson] : []));
const FLOPPY = 1474560;

const cases: { lesson: Lesson; run: RunSpec }[] = lessons.flatMap((lesson) =>
  lesson.check.runs.filter((run) => run.hv === undefined).map((run) => ({ lesson, run })),
);

describe.concurrent('lesson kernels against NASM and QEMU', () => {
  it.each(cases.map((c) => [`${c.lesson.meta.name}/${c.run.vms[0]!.kernel}`, c] as const))('%s', async (_, { lesson, run }) => {
    const kernel = run.vms[0]!.kernel;
    const source = join(ROOT, lesson.meta.name, kernel);
    const { out } = await assembleFile(source, { outName: `lesson-${lesson.meta.name}-${kernel.replace('.asm', '')}.bin` });
    const nasmBytes = new Uint8Array(readFileSync(out));
    expect(Buffer.from(buildKernel(files, lesson.meta.name, kernel).bytes).equals(Buffer.from(nasmBytes)), 'vizor asm = nasm').toBe(true);

    const bootSector = lesson.meta.machine.boot.kind === 'boot-sector';
    let image = out;
    if (bootSector) {
      const padded = new Uint8Array(FLOPPY);
      padded.set(nasmBytes);
      image = join(scratchDir(), `lesson-${lesson.meta.name}.img`);
      writeFileSync(image, padded);
    }
    const qemu = await runQemu(image, {
      boot: bootSector ? 'boot-sector' : 'multiboot',
      icount: true,
      memory: String(lesson.meta.machine.memoryBytes / 1048576),
      timeoutMs: 30_000,
    });
    const obs = runBare(files, lesson.meta, run);
    const end = obs.ends[0]!;
    // QEMU's isa-debug-exit status is (v<<1)|1; with -no-reboot a triple fault exits 0.
    const vizorStatus = end.reason === 'debug-exit' ? ((end.code! << 1) | 1) : end.reason === 'triple-fault' ? 0 : -1;
    expect(qemu.timedOut, 'QEMU timed out').toBe(false);
    expect(qemu.status).toBe(vizorStatus);

    if (lesson.meta.name === '11-legacy-real-mode') {
      expect(qemu.stdout).toBe(''); // SeaBIOS: INT 10h goes to the screen only
      expect(obs.serial[0]).toContain('legacy program running at 0800:0100');
    } else if (lesson.meta.name === '00-kinds-of-vms') {
      const [q, v] = [qemu.stdout, obs.serial[0]!].map((s) => s.split('\n'));
      expect(q!.slice(0, -2)).toEqual(v!.slice(0, -2));
      expect(q!.at(-2)).toBe('cpuid hypervisor bit=00000001 ');
      expect(v!.at(-2)).toBe('cpuid hypervisor bit=00000000 ');
    } else {
      expect(qemu.stdout).toBe(obs.serial[0]);
    }
  });
});
