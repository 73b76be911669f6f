// Shared by the machine-*.test.ts files: assemble small guests with vizor's own assembler.
import { assemble } from '../../src/asm/index.ts';
import { Machine, type MachineOptions } from '../../src/machine/machine.ts';

export function asm(source: string): Uint8Array {
  const r = assemble(source, { fileName: 'test.asm' });
  const errors = r.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) throw new Error(errors.map((d) => `${d.line}:${d.column} ${d.message}`).join('\n'));
  return r.bytes;
}

/** A Multiboot a.out-kludge kernel at 1 MiB around `body` (32-bit code, `start:` is the entry). */
export function multibootKernel(body: string): Uint8Array {
  return asm(`bits 32
org 0x100000
hdr: dd 0x1BADB002, 0x00010003, -(0x1BADB002+0x00010003)
  dd hdr, 0x100000, kend, kend, start
start:
${body}
putc: push edx
  push eax
  mov dx, 0x3FD
.w: in al, dx
  test al, 0x20
  jz .w
  pop eax
  mov dx, 0x3F8
  out dx, al
  pop edx
  ret
kend:
`);
}

/** A boot sector around 16-bit `body`, padded to `sectors` × 512 bytes with the signature. */
export function bootImage(body: string, extra = ''): Uint8Array {
  return asm(`bits 16
org 0x7c00
${body}
times 510-($-$$) db 0
dw 0xaa55
${extra}
`);
}

export function machineWithSerial(opts: MachineOptions = {}): { m: Machine; out: () => string } {
  let text = '';
  const m = new Machine({ memoryBytes: 16 << 20, ...opts, serial: (t) => { text += t; } });
  return { m, out: () => text };
}
