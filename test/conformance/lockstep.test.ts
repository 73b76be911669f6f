// Lockstep: vizor's per-instruction register trace (--trace-cpu) against QEMU's -singlestep log
// over the first 100,000 instructions (or the whole run when shorter): general registers, EIP,
// EFLAGS (undefined flags masked), segment selectors, CR0/CR2/CR3. The alignment rules are in
// test/helpers/lockstep.ts. On a divergence the message names the instruction, the register,
// both values and the records before it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildKernel } from '../helpers/kernels.ts';
import { compareLockstep } from '../helpers/lockstep.ts';
import { scratchDir } from '../helpers/nasm.ts';
import { runQemuTrace } from '../helpers/qemu.ts';
import { readVizorTrace, runVizor } from '../helpers/vizor.ts';

const COMPARE = 100_000;
/** Raw records to collect: more than COMPARE, since REP iterations collapse into one. */
const COLLECT = 130_000;
const LOCKSTEP_KERNELS = ['alu-flags', 'muldiv-shifts', 'strings-stack', 'exceptions', 'paging', 'usermode-syscalls', 'segments-descriptors'];

describe.concurrent('lockstep register traces: vizor vs QEMU', () => {
  for (const name of LOCKSTEP_KERNELS) {
    it(`${name}: the first ${COMPARE} instructions match`, { timeout: 180_000 }, async () => {
      const k = await buildKernel(name);
      const traceFile = join(scratchDir(), `${name}-${process.pid}.trace.ndjson`);
      const [qemu, run] = await Promise.all([
        runQemuTrace(k.image, { limit: COLLECT }),
        runVizor(k.source, { maxInstructions: COLLECT, traceCpu: traceFile, timeoutMs: 170_000 }),
      ]);
      expect(run.timedOut, 'vizor timed out').toBe(false);
      expect([8, k.spec.qemuStatus], `vizor run failed: ${run.stderr}`).toContain(run.status);
      const vizor = await readVizorTrace(traceFile, COLLECT);
      expect(qemu.length).toBeGreaterThan(100);
      const image = { bytes: new Uint8Array(readFileSync(k.image)), base: 0x100000 };
      const result = compareLockstep(qemu, vizor, image, { limit: COMPARE });
      expect(result.ok, result.message).toBe(true);
      expect(result.compared).toBeGreaterThan(Math.min(COMPARE, qemu.length) / 2);
    });
  }
});
