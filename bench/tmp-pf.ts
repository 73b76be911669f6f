import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Machine } from '../src/machine/machine.ts';
const name = process.argv[2] ?? 'pagefault';
execFileSync('nasm', ['-f', 'bin', '-I', 'fixtures/kernels/', '-I', 'fixtures/kernels/lib/', '-o', `/tmp/k/${name}.bin`, `fixtures/bench/${name}.asm`]);
for (let k = 0; k < 6; k++) {
  const m = new Machine({ memoryBytes: 64 << 20, serial: () => {} });
  m.load(new Uint8Array(readFileSync(`/tmp/k/${name}.bin`)), { kind: 'multiboot' });
  const c0 = process.cpuUsage();
  const r = m.run(Number(process.argv[3] ?? Infinity));
  const c = process.cpuUsage(c0);
  console.log(r, m.cpu.instructions, (m.cpu.instructions / ((c.user + c.system))).toFixed(1), 'MIPS cpu');
}
