// Ring compression is real (src/hypervisor/ring-compression.ts): a deprivileged guest kernel runs
// at CPL 1 in the emulated CPU, its privileged instructions fault there (#GP) and the VMM decodes
// and emulates each, leaving the guest exactly where bare metal would; a #GP the guest would get on
// bare metal is delivered to it unchanged.
import { describe, expect, it } from 'vitest';
import { assembleSource } from '../helpers/nasm.ts';
import { fixtureKernel, runBare, vmEnding } from './hv-helpers.ts';
import { Hypervisor, VMM_GDT_BASE, type Vm } from '../../src/hypervisor/index.ts';
import { Machine } from '../../src/machine/machine.ts';
import { Decoded, decodeBytes } from '../../src/x86/decode.ts';
import type { TraceEvent } from '../../src/trace/index.ts';

/** Privileged instructions in a loop, none of the sensitive-but-unprivileged ones' leaks. */
const PRIVILEGED = `
%include "lib/mb.inc"
%include "lib/sys.inc"
START
    call idt_install
    call tss_install
    PRINTLN "ring1"
    xor esi, esi
    xor edi, edi
.loop:
    mov eax, cr0
    mov ebx, eax
    mov eax, cr3
    mov cr3, eax
    out 0x80, al
    in al, 0x21
    lgdt [gdt_ptr]
    lidt [idt_ptr]
    cli
    sti
    cli
    clts
    wbinvd
    invlpg [esi]
    mov ecx, 0x10
    rdmsr
    add edi, eax
    mov dx, 0x80
    out dx, al
    mov ax, 0x10
    mov ss, ax
    push dword 0x08
    push dword .far
    retf
.far:
    push dword 0x2
    push dword 0x08
    push dword .back
    iretd
.back:
    inc esi
    cmp esi, 300
    jb .loop
    SHOW "tsc-sum", edi
    NL
    cli
    hlt
%include "lib/end.inc"
`;

function hvWith(image: Uint8Array, maxInstructions: number, kinds: TraceEvent['kind'][] = []): { vm: Vm; events: TraceEvent[] } {
  const hv = new Hypervisor({ hostMemoryBytes: 128 << 20 });
  const events: TraceEvent[] = [];
  if (kinds.length > 0) hv.emitter.on(kinds, (ev) => events.push(ev));
  const vm = hv.addVm({ image, cpu: 'deprivilege', paging: 'shadow', maxInstructions });
  hv.run();
  return { vm, events };
}

/** The instruction (opcode table op) at a guest address of a VM without paging. */
function opAt(vm: Vm, eip: number): string {
  const d = decodeBytes(new Decoded(), vm.gmem.readBytes(eip >>> 0, 15), 0, 32);
  return d.row?.op ?? '?';
}

describe('ring compression', () => {
  it('the deprivileged guest kernel runs at CPL 1 (CS RPL 1), its user code at 3; bare metal at 0 and 3', async () => {
    const image = await fixtureKernel('usermode-syscalls');
    const seen = (cpu: { cpl: number; segSel: Int32Array; cr0: number }, into: Set<string>) => {
      if ((cpu.cr0 & 1) !== 0) into.add(`cpl=${cpu.cpl} rpl=${cpu.segSel[1]! & 3}`);
      return false;
    };
    const bare = new Set<string>();
    const m = new Machine({ memoryBytes: 64 << 20 });
    m.load(image, { kind: 'multiboot' });
    m.cpu.hooks = { beforeInstruction: (c) => seen(c, bare) };
    m.run(5_000_000);
    expect([...bare].sort()).toEqual(['cpl=0 rpl=0', 'cpl=3 rpl=3']);

    const dep = new Set<string>();
    const hv = new Hypervisor({ hostMemoryBytes: 256 << 20, quantum: 1_000 });
    const vm = hv.addVm({ image, cpu: 'deprivilege', paging: 'shadow', maxInstructions: 5_000_000 });
    hv.addVm({ image, cpu: 'deprivilege', paging: 'shadow', maxInstructions: 5_000_000 }); // shares the CPU
    let firstCs = -1;
    vm.cpu.hooks = { beforeInstruction: (c) => { if (firstCs < 0) firstCs = c.segSel[1]!; return seen(c, dep); } };
    hv.run(2_000); // paused early in the kernel, as a debugger would see it: the real CPU state
    expect(vm.end).toBeNull();
    expect(vm.cpu.getState().cs.selector & 3).toBe(1);
    expect(vm.cpu.getState().gdtr.base).toBe(VMM_GDT_BASE);
    hv.run();
    expect(vmEnding(vm)).toBe('debug-exit 22');
    expect(firstCs & 3).toBe(1); // a breakpoint on the kernel's first instruction sees ring 1
    expect([...dep].sort()).toEqual(['cpl=1 rpl=1', 'cpl=3 rpl=3']);
    // Once it has ended, the VM's state is the guest's own view: CPL 0 and its own GDT.
    expect(vm.cpu.getState().cs.selector & 3).toBe(0);
    expect(vm.cpu.getState().gdtr.base).not.toBe(VMM_GDT_BASE);
  });

  it('privileged instructions fault at CPL 1 and are emulated: state after N instructions equals bare metal', async () => {
    const image = await assembleSource(PRIVILEGED, 'hv-ring1-privileged');
    const bare = runBare(image, 5_000_000);
    const { vm, events } = hvWith(image, 5_000_000, ['exit']);
    expect(vm.serialText).toBe(bare.serial);
    expect(vmEnding(vm)).toBe(bare.ending);
    expect(bare.ending).toBe('halted false');
    const trapped = new Set(events.flatMap((e) => (e.kind === 'exit' && e.reason === 'EXCEPTION_NMI' && e.qualification === 13 ? [opAt(vm, e.eip)] : [])));
    for (const op of ['mov_from_cr', 'mov_to_cr', 'out', 'in', 'lgdt', 'lidt', 'cli', 'sti', 'clts', 'wbinvd', 'invlpg', 'rdmsr', 'mov_to_seg', 'ret_far', 'iret', 'hlt']) {
      expect(trapped, op).toContain(op);
    }
    expect(trapped).not.toContain('cpuid');
    // Registers, flags, segments, descriptor tables, control registers and TSC, at several points.
    for (const n of [3_000, 6_011, 9_500]) { // the whole run is about 10 500 instructions
      const m = new Machine({ memoryBytes: 64 << 20 });
      m.load(image, { kind: 'multiboot' });
      expect(m.run(n).reason).toBe('instruction-limit');
      const { vm: v } = hvWith(image, n);
      expect(v.end?.reason).toBe('instruction-limit');
      expect({ n, state: v.cpu.getState() }).toEqual({ n, state: m.cpu.getState() });
    }
  });

  it('a #GP the guest gets on bare metal too is emulated, then delivered to the guest unchanged', async () => {
    const image = await fixtureKernel('exceptions');
    const bare = runBare(image, 20_000_000);
    const { vm, events } = hvWith(image, 20_000_000, ['exit', 'exception']);
    expect(vm.serialText).toBe(bare.serial);
    // Each trap whose emulation faulted is followed by the guest's own fault at the same
    // instruction (#GP, or #NP for the not-present data segment), delivered as from ring 0.
    const reflected: number[] = [];
    events.forEach((e, i) => {
      const next = events[i + 1];
      if (e.kind === 'exit' && e.reason === 'EXCEPTION_NMI' && next?.kind === 'exception' && next.eip === e.eip) {
        expect(next.cs & 3).toBe(0);
        reflected.push(next.vector);
      }
    });
    // gp-sel, gp-ss-null, gp-execonly-ds, gp-tss-as-ds, gp-rpl-ss, gp-far-jmp-data, gp-priv-sel
    expect(reflected.filter((v) => v === 13).length).toBeGreaterThanOrEqual(7);
    // And the guest saw the same exceptions as on bare metal, in order (CS as the real CPU had
    // it at the fault: RPL 1 in the compressed kernel).
    const bareExc: unknown[] = [];
    const m = new Machine({ memoryBytes: 64 << 20 });
    m.emitter.on(['exception'], (e) => { if (e.kind === 'exception') bareExc.push([e.vector, e.errorCode, e.eip, e.cs & ~3]); });
    m.load(image, { kind: 'multiboot' });
    m.run(20_000_000);
    const depExc = events.flatMap((e) => (e.kind === 'exception' ? [[e.vector, e.errorCode, e.eip, e.cs & ~3]] : []));
    expect(bareExc.length).toBeGreaterThan(20);
    expect(depExc).toEqual(bareExc);
  });

  it('a #GP from guest ring 3 is the guest\'s own: delivered through its IDT, no trap unless it is I/O', async () => {
    const image = await fixtureKernel('usermode-syscalls');
    const bare = runBare(image, 20_000_000);
    const { vm, events } = hvWith(image, 20_000_000, ['exit', 'exception']);
    expect(vm.serialText).toBe(bare.serial);
    const userGp = events.filter((e) => e.kind === 'exception' && e.vector === 13 && (e.cs & 3) === 3);
    expect(userGp.length).toBeGreaterThanOrEqual(6);
    const trapEips = new Set(events.flatMap((e) => (e.kind === 'exit' && e.reason === 'EXCEPTION_NMI' ? [e.eip] : [])));
    const io = new Set(['in', 'out', 'ins', 'outs']);
    let checked = 0;
    for (const e of userGp) {
      if (e.kind !== 'exception') continue;
      expect(trapEips.has(e.eip), opAt(vm, e.eip)).toBe(io.has(opAt(vm, e.eip)));
      checked++;
    }
    expect(checked).toBe(userGp.length);
  });

  it('ring-3 I/O follows the guest\'s own TSS I/O bitmap (the CPU\'s TSS, the VMM\'s, has none)', async () => {
    const image = await assembleSource(`
%include "lib/mb.inc"
%include "lib/sys.inc"
START
    call idt_install
    call tss_install
    mov eax, [tss + 4]                ; the same SS0:ESP0, in a TSS with an I/O bitmap
    mov [iotss + 4], eax
    mov dword [iotss + 8], 0x10
    mov word [iotss + 102], 104
    mov eax, 0x48
    mov ebx, iotss
    mov ecx, 104 + 8192
    mov dl, 0x89
    mov dh, 0
    call set_desc
    mov ax, 0x48
    ltr ax
    PRINTLN "iobitmap"
    mov ebx, user
    mov ecx, user_stack_top
    mov edx, 0x2                      ; IOPL 0: only the bitmap lets ring 3 in
    call run_user
    PRINTLN "back in ring 0"
    EXIT 0x11
user:
    mov dx, 0x3F8
    mov al, 'U'
    out dx, al                        ; allowed by the bitmap
    mov al, 10
    out dx, al
    FAULTS {out 0x21, al}             ; not allowed: #GP
    int 0x30
section .data
align 4
iotss:
    times 104 db 0
    times 0x3F8 / 8 db 0xFF
    db 0xFE                           ; port 0x3F8 allowed
    times 8192 - 0x3F8 / 8 - 1 db 0xFF
    db 0xFF
section .bss
alignb 16
    resb 1024
user_stack_top:
section .text
%include "lib/end.inc"
`, 'hv-ring1-iobitmap');
    const bare = runBare(image, 5_000_000);
    expect(bare.serial).toContain('iobitmap\nU\nexc 0000000d err=00000000 cs=0000001b');
    expect(bare.ending).toBe('debug-exit 17');
    const { vm } = hvWith(image, 5_000_000);
    expect({ serial: vm.serialText, ending: vmEnding(vm) }).toEqual({ serial: bare.serial, ending: bare.ending });
  });
});
