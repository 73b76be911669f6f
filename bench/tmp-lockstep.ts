// temp debugging helper (cpu helper): lockstep one kernel
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildKernel } from '../test/helpers/kernels.ts';
import { compareLockstep } from '../test/helpers/lockstep.ts';
import { scratchDir } from '../test/helpers/nasm.ts';
import { runQemuTrace } from '../test/helpers/qemu.ts';
import { readVizorTrace, runVizor } from '../test/helpers/vizor.ts';
const name = process.argv[2]!;
const N = Number(process.argv[3] ?? 100000);
const k = await buildKernel(name);
const traceFile = join(scratchDir(), `${name}-dbg.trace.ndjson`);
const [qemu, run] = await Promise.all([
  runQemuTrace(k.image, { limit: N + 30000 }),
  runVizor(k.image, { maxInstructions: N + 30000, traceCpu: traceFile, timeoutMs: 170_000, boot: k.spec.boot }),
]);
console.log('vizor status', run.status, run.stderr.slice(0, 300));
const vizor = await readVizorTrace(traceFile, N + 30000);
const image = { bytes: new Uint8Array(readFileSync(k.image)), base: 0x100000 };
const result = compareLockstep(qemu, vizor, image, { limit: N });
console.log(result.ok, result.compared, result.message);
