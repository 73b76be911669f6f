// Records QEMU's serial output of every fixture kernel into fixtures/kernels/NAME.expected.txt.
// Run after changing a kernel: npx tsx test/helpers/record-expected.ts [NAME...]
// (bypasses the QEMU cache; review the diff before committing it).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { KERNELS, buildKernel } from './kernels.ts';
import { KERNELS_DIR } from './nasm.ts';
import { runQemu } from './qemu.ts';

process.env.VIZOR_QEMU_NOCACHE = '1';
const wanted = process.argv.slice(2);
for (const spec of KERNELS.filter((k) => wanted.length === 0 || wanted.includes(k.name))) {
  const k = await buildKernel(spec.name);
  const r = await runQemu(k.image, { boot: spec.boot, icount: spec.icount, timeoutMs: spec.qemuStatus === 'timeout' ? 1500 : 10_000 });
  const ok = spec.qemuStatus === 'timeout' ? r.timedOut : r.status === spec.qemuStatus;
  writeFileSync(join(KERNELS_DIR, `${spec.name}.expected.txt`), r.stdout, 'latin1');
  console.log(`${spec.name.padEnd(22)} status ${r.timedOut ? 'timeout' : r.status} ${ok ? 'as expected' : 'UNEXPECTED'} (${r.stdout.length} bytes)`);
  if (!ok) process.exitCode = 1;
}
