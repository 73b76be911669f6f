// The Popek-Goldberg hole, live (fixtures/hv/hole.asm): under deprivilege the kernel runs at CPL 1
// (ring compression), so its POPF natively cannot set IF (the pending timer interrupt is not
// taken) and SGDT natively reveals the hypervisor's GDT. PUSHF shows the guest's true IF: this
// VMM keeps EFLAGS the guest's own (CLI/STI trap and are emulated). Binary translation and VT-x
// close the hole (output as on bare metal).
import { describe, expect, it } from 'vitest';
import { hvKernel, runBare, runHv } from './hv-helpers.ts';
import { VMM_GDT_BASE, VMM_IDT_BASE } from '../../src/hypervisor/index.ts';
import { assembleSource } from '../helpers/nasm.ts';
import { maskOf } from '../../src/trace/schema.ts';

const line = (serial: string, key: string) => serial.split('\n').find((l) => l.startsWith(key));

describe('the Popek-Goldberg hole', () => {
  it('differs bare vs deprivilege, matches again under bt and vtx', async () => {
    const image = await hvKernel('hole');
    const bare = runBare(image, 20_000_000);
    expect(line(bare.serial, 'sgdt-is-own-gdt')).toBe('sgdt-is-own-gdt=00000001 ');
    expect(line(bare.serial, 'irq-after-popf')).toBe('irq-after-popf=00000001 ');
    expect(line(bare.serial, 'pushf-if-after-cli')).toBe('pushf-if-after-cli=00000000 ');

    const dep = runHv([{ image, cpu: 'deprivilege', maxInstructions: 20_000_000 }]).vms[0]!;
    expect(dep.serialText).not.toBe(bare.serial);
    expect(line(dep.serialText, 'sgdt-is-own-gdt')).toBe('sgdt-is-own-gdt=00000000 ');
    expect(line(dep.serialText, 'irq-after-popf')).toBe('irq-after-popf=00000000 ');
    expect(line(dep.serialText, 'pushf-if-after-cli')).toBe('pushf-if-after-cli=00000000 ');
    expect(dep.stats.holeHits).toBe(2); // the POPF that would set IF, the SGDT

    for (const cpu of ['bt', 'vtx'] as const) {
      for (const paging of ['shadow', 'nested'] as const) {
        const vm = runHv([{ image, cpu, paging, maxInstructions: 20_000_000 }]).vms[0]!;
        expect(vm.serialText).toBe(bare.serial);
      }
    }
  });

  it('bt turns the sensitive instructions into exits; deprivilege warns about each leak', async () => {
    const image = await hvKernel('hole');
    const bt = runHv([{ image, cpu: 'bt', maxInstructions: 20_000_000 }]).vms[0]!;
    expect(bt.stats.exitsOf('SENSITIVE_INSTRUCTION')).toBeGreaterThan(0);
    const { Hypervisor } = await import('../../src/hypervisor/index.ts');
    const hv = new Hypervisor();
    const warnings: string[] = [];
    hv.emitter.on(['warning'], (ev) => { if (ev.kind === 'warning') warnings.push(ev.message); });
    hv.addVm({ image, cpu: 'deprivilege', maxInstructions: 20_000_000 });
    hv.run();
    expect(warnings.some((w) => w.includes('POPF'))).toBe(true);
    expect(warnings.some((w) => w.includes('SGDT'))).toBe(true);
    expect(VMM_GDT_BASE).toBeGreaterThan(0xc0000000);
    expect(maskOf(['warning'])).toBeGreaterThan(0);
  });

  it('SGDT and SIDT natively show where the VMM keeps its tables; a POPF that drops IF is ignored', async () => {
    const image = await assembleSource(`
%include "lib/mb.inc"
START
    sgdt [buf]
    SHOW "gdt", dword [buf + 2]
    sidt [buf]
    SHOW "idt", dword [buf + 2]
    NL
    sti
    push dword 0x2
    popfd
    pushfd
    pop eax
    and eax, 0x200
    SHOW "if-after-popf", eax
    NL
    EXIT 0x10
section .data
buf: dd 0, 0
%include "lib/end.inc"
`, 'hv-hole-tables');
    const bare = runBare(image, 1_000_000);
    expect(bare.serial).toMatch(/if-after-popf=00000000/);
    expect(bare.serial).not.toContain(VMM_GDT_BASE.toString(16));
    const dep = runHv([{ image, cpu: 'deprivilege', maxInstructions: 1_000_000 }]).vms[0]!;
    const hex = (v: number) => v.toString(16).padStart(8, '0');
    expect(dep.serialText).toContain(`gdt=${hex(VMM_GDT_BASE)} idt=${hex(VMM_IDT_BASE)}`);
    expect(dep.serialText).toMatch(/if-after-popf=00000200/);
    expect(dep.stats.exitsOf('EXCEPTION_NMI')).toBeGreaterThan(0); // STI trapped; POPF, SGDT, SIDT did not
    expect(dep.stats.holeHits).toBe(3);
  });
});
