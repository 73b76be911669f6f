// Every fixture kernel runs in QEMU (the oracle) and in vizor: serial output and exit status
// must be identical. Differences by design: after a triple fault QEMU -no-reboot exits 0, vizor
// exits 6; a kernel that never stops is killed in QEMU and stopped by --max-instructions in
// vizor (status 8). QEMU's output is also checked against fixtures/kernels/NAME.expected.txt
// so that a change in QEMU (or in a kernel) is noticed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNELS, buildKernel, type KernelSpec } from '../helpers/kernels.ts';
import { KERNELS_DIR } from '../helpers/nasm.ts';
import { runQemu, type QemuRun } from '../helpers/qemu.ts';
import { runVizor } from '../helpers/vizor.ts';

const RUNAWAY_QEMU_MS = 1500;
const RUNAWAY_VIZOR_LIMIT = 5_000_000;
/** bootsector.asm teletypes this one character (checked in VGA memory, never printed by it). */
const TTY_MARK = '#';

const qemuRuns = new Map<string, Promise<QemuRun>>();
function qemuRun(spec: KernelSpec): Promise<QemuRun> {
  let p = qemuRuns.get(spec.name);
  if (!p) {
    p = buildKernel(spec.name).then((k) =>
      runQemu(k.image, { boot: spec.boot, icount: spec.icount, timeoutMs: spec.qemuStatus === 'timeout' ? RUNAWAY_QEMU_MS : 10_000 }));
    qemuRuns.set(spec.name, p);
  }
  return p;
}

function expectedText(name: string): string {
  return readFileSync(join(KERNELS_DIR, `${name}.expected.txt`), 'latin1');
}

describe.concurrent('fixture kernels in QEMU (the oracle)', () => {
  for (const spec of KERNELS) {
    it(`${spec.name}: QEMU prints the recorded output and exits as expected`, async () => {
      const q = await qemuRun(spec);
      if (spec.qemuStatus === 'timeout') {
        expect(q.timedOut, 'QEMU should still be running when the timeout kills it').toBe(true);
      } else {
        expect(q.timedOut, 'QEMU timed out').toBe(false);
        expect(q.status).toBe(spec.qemuStatus);
      }
      expect(q.stdout).toBe(expectedText(spec.name));
      expect(q.stdout.length).toBeGreaterThan(0);
    });
  }
});

describe.concurrent('fixture kernels in vizor: same serial output and status as QEMU', () => {
  for (const spec of KERNELS) {
    it(`${spec.name}: vizor matches QEMU`, async () => {
      const [q, k] = await Promise.all([qemuRun(spec), buildKernel(spec.name)]);
      const v = await runVizor(k.source, {
        boot: spec.boot,
        mem: '64M',
        maxInstructions: spec.qemuStatus === 'timeout' ? RUNAWAY_VIZOR_LIMIT : undefined,
      });
      expect(v.timedOut, `vizor did not finish; stderr: ${v.stderr}`).toBe(false);
      let out = v.stdout;
      if (spec.boot === 'boot-sector') {
        // vizor's BIOS mirrors INT 10h teletype output to the serial port, SeaBIOS does not
        out = out.replace(`\n${TTY_MARK}cursor`, '\ncursor');
      }
      expect(out).toBe(q.stdout);
      const want = spec.vizorStatus ?? spec.qemuStatus;
      expect(v.status, `stderr: ${v.stderr}`).toBe(want);
      if (spec.vizorStatus === 6) expect(v.stderr).toMatch(/triple fault/i);
      if (spec.vizorStatus === 8) expect(v.stderr).toMatch(/instruction/i);
      if (spec.vizorStatus !== undefined) expect(v.stderr).not.toMatch(/\n\s+at /);
    });
  }
});
