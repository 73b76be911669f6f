; Lesson 9 — scheduling VMs: the mostly idle guest. It sleeps in HLT until its timer ticks,
; five times, printing each tick: between ticks it has nothing to do and gives the CPU away.
;   vizor run lessons/09-scheduling/idle.asm
%include "../_lib/mb.inc"

TIMER_VEC equ 0x20
TICKS     equ 5

START
    PRINTLN "idle guest: start"
    mov ebx, timer_handler
    mov [idt + TIMER_VEC * 8], bx
    mov word [idt + TIMER_VEC * 8 + 2], 0x08
    mov word [idt + TIMER_VEC * 8 + 4], 0x8E00
    shr ebx, 16
    mov [idt + TIMER_VEC * 8 + 6], bx
    lidt [idt_ptr]
    PIC_REMAP 0xFE                ; the PICs as lesson 2 programs them: IRQ 0 at vector 0x20, only IRQ 0
    PIT_PERIODIC 11932            ; PIT channel 0: mode 2, IRQ 0 every 11932 PIT clocks
    sti
sleep:
    hlt
    mov eax, [ticks]
    cmp eax, [printed]
    je sleep
    mov [printed], eax
    SHOW "tick", eax
    NL
    cmp eax, TICKS
    jb sleep
    cli
    EXIT 0x1A

timer_handler:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

section .data
align 4
ticks:   dd 0
printed: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 8
idt: resb 256 * 8
section .text

%include "../_lib/end.inc"
