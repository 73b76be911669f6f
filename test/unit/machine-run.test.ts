import { describe, expect, it } from 'vitest';
import { bootImage, machineWithSerial, multibootKernel } from './machine-helpers.ts';

describe('Machine: Multiboot entry and endings', () => {
  it('enters protected mode with the QEMU register set and ends on a debug-exit write', () => {
    const { m, out } = machineWithSerial();
    m.load(multibootKernel(`
  mov al, 'A'
  call putc
  mov al, 0x21
  out 0xf4, al
`), { kind: 'multiboot', cmdline: 'k ' });
    const st = m.cpu.getState();
    expect([st.eax >>> 0, st.ebx, st.edx, st.edi, st.esp, st.eflags, st.cr0]).toEqual([0x2badb002, 0x9500, 0x10511, 0x1000, 0x6f08, 0x6, 0x11]);
    expect(st.ecx).toBe(st.eip);
    expect([st.cs.selector, st.ds.selector, st.ss.selector, st.ldtr.selector]).toEqual([0x08, 0x10, 0x10, 0]);
    expect(m.run(1_000_000)).toEqual({ reason: 'debug-exit', code: 0x21 });
    expect(out()).toBe('A');
  });

  it('reports a triple fault, HLT with IF=0 and the instruction limit', () => {
    const tf = machineWithSerial();
    tf.m.load(multibootKernel(`
  lidt [bad]
  int 3
bad: dw 0
  dd 0
`), { kind: 'multiboot' });
    expect(tf.m.run(1_000_000)).toEqual({ reason: 'triple-fault' });

    const h = machineWithSerial();
    h.m.load(multibootKernel('  cli\n  hlt\n'), { kind: 'multiboot' });
    expect(h.m.run(1_000_000)).toEqual({ reason: 'halted', interruptsEnabled: false });

    const l = machineWithSerial();
    l.m.load(multibootKernel('  jmp $\n'), { kind: 'multiboot' });
    expect(l.m.run(100_000)).toEqual({ reason: 'instruction-limit' });
    expect(l.m.cpu.instructions).toBe(100_000);
  });

  it('IRQ 0 from the BIOS-programmed PIT wakes HLT and virtual time skips ahead', () => {
    const { m, out } = machineWithSerial();
    m.load(multibootKernel(`
  mov eax, irq0
  mov [idt+8*8], ax
  mov word [idt+8*8+2], 0x08
  mov word [idt+8*8+4], 0x8E00
  shr eax, 16
  mov [idt+8*8+6], ax
  lidt [idtr]
  mov al, 0xFE
  out 0x21, al
  sti
.wait: hlt
  cmp dword [ticks], 5
  jb .wait
  mov al, 'T'
  call putc
  mov al, 0
  out 0xf4, al
irq0: inc dword [ticks]
  push eax
  mov al, 0x20
  out 0x20, al
  pop eax
  iret
ticks: dd 0
idtr: dw 256*8-1
  dd idt
idt: times 256*8 db 0
`), { kind: 'multiboot' });
    expect(m.run(10_000_000)).toEqual({ reason: 'debug-exit', code: 0 });
    expect(out()).toBe('T');
    expect(m.cpu.instructions).toBeLessThan(1000); // the wait was idle time, not instructions
    expect(m.nowNs()).toBeGreaterThan(4 * 54_000_000);
  });

  it('keyboard-controller reset reboots the image', () => {
    const { m, out } = machineWithSerial();
    m.load(multibootKernel(`
  mov al, 'R'
  call putc
  cmp byte [0x500], 0  ; survives the reset: BDA scratch is rewritten? no: 0x500 is free RAM
  jne .second
  mov byte [0x500], 1
  mov al, 0xFE
  out 0x64, al
  jmp $
.second:
  mov al, 0x01
  out 0xf4, al
`), { kind: 'multiboot' });
    expect(m.run(1_000_000)).toEqual({ reason: 'debug-exit', code: 1 });
    expect(out()).toBe('RR');
  });
});

describe('Machine: boot sector and the built-in BIOS', () => {
  it('INT 10h teletype goes to VGA and serial; INT 13h reads CHS and LBA; INT 15h E820; INT 1Ah ticks', () => {
    const img = bootImage(`
  mov [drive], dl
  mov si, hello
  call print
  mov ax, 0x0201          ; CHS: cylinder 0, head 0, sector 2
  mov cx, 0x0002
  xor dh, dh
  mov dl, [drive]
  mov bx, 0x8000
  int 0x13
  jc fail
  mov si, 0x8000
  call print
  mov ah, 0x41
  mov bx, 0x55aa
  mov dl, [drive]
  int 0x13
  jc fail
  cmp bx, 0xaa55
  jne fail
  mov ah, 0x42
  mov si, dap
  int 0x13
  jc fail
  mov si, 0x9000
  call print
  xor ebx, ebx            ; E820: count entries
  xor bp, bp
.e: mov eax, 0xe820
  mov edx, 0x534d4150
  mov ecx, 20
  mov di, 0x7000
  int 0x15
  jc fail
  inc bp
  test ebx, ebx
  jnz .e
  mov ax, bp
  add al, '0'
  mov ah, 0x0e
  int 0x10
  xor ax, ax
  int 0x1a
  mov bx, dx
.t: hlt
  xor ax, ax
  int 0x1a
  sub dx, bx
  cmp dx, 2
  jb .t
  mov al, 0x10
  out 0xf4, al
fail:
  mov al, 0x33
  out 0xf4, al
print: lodsb
  test al, al
  jz .d
  mov ah, 0x0e
  int 0x10
  jmp print
.d: ret
drive: db 0
hello: db 'boot', 13, 10, 0
dap: db 16, 0
  dw 1
  dw 0x9000, 0
  dd 2, 0
`, `db 'two', 13, 10, 0
times 1024-($-$$) db 0
db 'three', 13, 10, 0
times 1536-($-$$) db 0`);
    const { m, out } = machineWithSerial();
    m.load(img, { kind: 'boot-sector' });
    const st = m.cpu.getState();
    expect([st.cs.selector, st.eip, st.edx & 0xff, st.eflags & 0x200]).toEqual([0, 0x7c00, 0x80, 0x200]);
    expect(m.run(50_000_000)).toEqual({ reason: 'debug-exit', code: 0x10 });
    expect(out()).toBe('boot\r\ntwo\r\nthree\r\n6');
    expect(m.vgaText().slice(0, 4)).toEqual(['boot', 'two', 'three', '6']);
  });

  it('INT 16h returns typed keys; with no keyboard input the run ends instead of waiting forever', () => {
    const img = bootImage(`
.l: xor ah, ah
  int 0x16
  cmp al, 13
  je .done
  mov ah, 0x0e
  int 0x10
  jmp .l
.done:
  mov al, 0x05
  out 0xf4, al
`);
    const a = machineWithSerial();
    a.m.load(img, { kind: 'boot-sector' });
    a.m.ps2.typeText('Hi!\n');
    expect(a.m.run(50_000_000)).toEqual({ reason: 'debug-exit', code: 5 });
    expect(a.out()).toBe('Hi!');
    const b = machineWithSerial();
    b.m.load(img, { kind: 'boot-sector' });
    expect(b.m.run(50_000_000)).toEqual({ reason: 'halted', interruptsEnabled: true, waitingForKey: true });
  });
});
