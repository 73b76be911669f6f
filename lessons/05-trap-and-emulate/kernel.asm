; Lesson 5 — trap and emulate. Six privileged (or at least intercepted) instructions, one after
; another, each with a label, so that every VM exit they cause can be traced back to its line:
; OUT, IN, MOV to CR0, MOV to CR3, CPUID and HLT. The kernel prints what each one gave it.
;   vizor run lessons/05-trap-and-emulate/kernel.asm
;   vizor run lessons/05-trap-and-emulate/kernel.asm --hv --trace /tmp/l5.ndjson --trace-kinds exit,entry
%include "../_lib/mb.inc"

TIMER_VEC equ 0x20

START
    PRINTLN "lesson 5: trap and emulate"
    call setup_timer                  ; IDT gate, PIC and PIT for the HLT below (IRQ 0 masked)

demo_start:
    mov al, 0x42
io_out:
    out 0x80, al                      ; POST diagnostic port: a write nobody reads
    mov al, 0x0A
io_select:
    out 0x70, al                      ; CMOS: select register A ...
io_in:
    in al, 0x71                       ; ... and read it (0x26: 32.768 kHz base, 1024 Hz rate)
    mov [cmos_a], al
    mov eax, cr0
    or eax, 0x10000                   ; CR0.WP
cr0_write:
    mov cr0, eax
    mov eax, 0x1000
cr3_write:
    mov cr3, eax                      ; paging is off: CR3 is only stored
    mov eax, 1
do_cpuid:
    cpuid                             ; EDX: feature bits
    mov [features], edx
    mov al, 0xFE
unmask:
    out 0x21, al                      ; unmask IRQ 0
    sti
do_hlt:
    hlt                               ; sleep until the timer's interrupt
    cli
demo_end:

    SHOW "cmos register A", [cmos_a]
    NL
    mov eax, cr0
    and eax, 0x10000
    SHOW "cr0.wp", eax
    NL
    mov eax, cr3
    SHOW "cr3", eax
    NL
    mov eax, [features]
    and eax, 0x18                     ; PSE (bit 3) and TSC (bit 4)
    SHOW "cpuid.1 edx pse|tsc", eax
    NL
    SHOW "ticks", [ticks]
    NL
    PRINTLN "done"
    EXIT 0x15

setup_timer:
    mov ebx, timer_handler
    mov [idt + TIMER_VEC * 8], bx
    mov word [idt + TIMER_VEC * 8 + 2], 0x08
    mov word [idt + TIMER_VEC * 8 + 4], 0x8E00
    shr ebx, 16
    mov [idt + TIMER_VEC * 8 + 6], bx
    lidt [idt_ptr]
    mov al, 0x11
    out 0x20, al
    out 0xA0, al
    mov al, TIMER_VEC
    out 0x21, al
    mov al, TIMER_VEC + 8
    out 0xA1, al
    mov al, 4
    out 0x21, al
    mov al, 2
    out 0xA1, al
    mov al, 1
    out 0x21, al
    out 0xA1, al
    mov al, 0xFF
    out 0x21, al                      ; everything masked for now
    out 0xA1, al
    PIT_PERIODIC 11932            ; PIT channel 0: mode 2, IRQ 0 every 11932 PIT clocks
    ret

timer_handler:
    push eax
    inc dword [ticks]
    mov al, 0xFF
    out 0x21, al                      ; one tick is enough: mask IRQ 0 again
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

section .data
align 4
ticks:    dd 0
cmos_a:   dd 0
features: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 8
idt: resb 256 * 8
section .text

%include "../_lib/end.inc"
