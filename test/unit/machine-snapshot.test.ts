import { describe, expect, it } from 'vitest';
import { bootImage, machineWithSerial, multibootKernel } from './machine-helpers.ts';

// A kernel whose output depends on timer interrupts, the PIT counter and memory it wrote earlier.
const KERNEL = multibootKernel(`
  mov eax, irq0
  mov [idt+8*8], ax
  mov word [idt+8*8+2], 0x08
  mov word [idt+8*8+4], 0x8E00
  shr eax, 16
  mov [idt+8*8+6], ax
  lidt [idtr]
  mov al, 0x34        ; PIT channel 0: 2 kHz
  out 0x43, al
  mov al, 0x54
  out 0x40, al
  mov al, 0x02
  out 0x40, al
  mov al, 0xFE
  out 0x21, al
  sti
  mov edi, 0x200000
.loop:
  inc ecx
  mov [edi], ecx
  add edi, 4
  and edi, 0x20ffff
  mov eax, [ticks]
  cmp eax, 40
  jae .done
  cmp eax, [last]
  je .loop
  mov [last], eax
  mov al, 0
  out 0x43, al
  in al, 0x40
  and al, 15
  add al, 'a'
  call putc
  jmp .loop
.done:
  mov al, 0x07
  out 0xf4, al
irq0: inc dword [ticks]
  push eax
  mov al, 0x20
  out 0x20, al
  pop eax
  iret
ticks: dd 0
last: dd 0
idtr: dw 256*8-1
  dd idt
idt: times 256*8 db 0
`);

describe('Machine snapshot and restore', () => {
  it('restoring and running again gives byte-identical output and state', () => {
    const { m, out } = machineWithSerial();
    m.load(KERNEL, { kind: 'multiboot' });
    expect(m.run(60_000)).toEqual({ reason: 'instruction-limit' });
    const snap = m.snapshot();
    const before = out();
    const first = m.run(50_000_000);
    const firstOut = out().slice(before.length);
    const firstState = m.cpu.getState();
    const firstTime = m.nowNs();
    expect(first).toEqual({ reason: 'debug-exit', code: 7 });
    expect(firstOut.length).toBeGreaterThan(10);

    m.restore(snap);
    const mark = out().length;
    const second = m.run(50_000_000);
    expect(second).toEqual(first);
    expect(out().slice(mark)).toBe(firstOut);
    expect(m.cpu.getState()).toEqual(firstState);
    expect(m.nowNs()).toBe(firstTime);
  });

  it('a snapshot restores into a fresh machine', () => {
    const a = machineWithSerial();
    a.m.load(KERNEL, { kind: 'multiboot' });
    a.m.run(200_000);
    const snap = a.m.snapshot();
    const aResult = a.m.run(50_000_000);
    const b = machineWithSerial();
    b.m.load(KERNEL, { kind: 'multiboot' });
    b.m.restore(snap);
    expect(b.m.run(50_000_000)).toEqual(aResult);
    expect(b.out()).toBe(a.out().slice(a.out().length - b.out().length));
    expect(b.out().length).toBeGreaterThan(0);
  });

  it('keeps only non-zero RAM pages', () => {
    const { m } = machineWithSerial();
    m.load(bootImage('  jmp $\n'), { kind: 'boot-sector' });
    const snap = m.snapshot();
    expect(snap.memory.pages.size).toBeLessThan(40);
    expect(snap.memory.pages.has(0x7c00 >> 12)).toBe(true);
  });
});
