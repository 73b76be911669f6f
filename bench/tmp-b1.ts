import { makeCpu, assemble, flat32 } from '../test/unit/cpu-harness.ts';
const h = makeCpu();
const code = assemble(`
  mov ecx, 100000000
  xor eax, eax
l: add eax, ecx
  xor edx, eax
  inc ebx
  mov [0x20000], eax
  cmp eax, [0x20000]
  dec ecx
  jnz l
  hlt`);
h.memory.writeBytes(0x10000, code);
flat32(h.cpu, h.memory);
function t(n: number, label: string) {
  const c0 = process.cpuUsage();
  h.cpu.run(n);
  const c = process.cpuUsage(c0);
  console.log(label, (n / 1e6 / ((c.user + c.system) / 1e6)).toFixed(1), 'MIPS (cpu time)');
}
for (let k = 0; k < 4; k++) t(50_000_000, 'fast');
h.cpu.hooks = { beforeInstruction: () => false };
for (let k = 0; k < 3; k++) t(20_000_000, 'hooked');
