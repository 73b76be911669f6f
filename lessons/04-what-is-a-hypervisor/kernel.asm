; Lesson 4 — what a hypervisor is. An ordinary little kernel: it computes (no help from anyone),
; asks the CPU who it is (CPUID), waits for three timer ticks (HLT) and prints (port I/O). Run it
; bare, then under the hypervisor: the output is the same; what differs is who did the work.
;   vizor run lessons/04-what-is-a-hypervisor/kernel.asm
;   vizor run lessons/04-what-is-a-hypervisor/kernel.asm --hv --trace /tmp/l4.ndjson
%include "../_lib/mb.inc"

TIMER_VEC equ 0x20

START
    PRINTLN "lesson 4: one kernel, bare or virtual"

; ---- 1. pure computation: no privileged instruction, nothing for a hypervisor to do ------------
    xor eax, eax                      ; checksum
    mov ecx, 200000
compute:
    mov edx, ecx
    imul edx, ecx
    add eax, edx
    rol eax, 3
    loop compute
compute_end:
    SHOW "checksum", eax
    NL

; ---- 2. CPUID: always intercepted under hardware-assisted virtualization -------------------------
    xor eax, eax
ask_cpuid:
    cpuid                             ; EAX = highest leaf, EBX:EDX:ECX = vendor
    PRINTLN "cpuid: done"

; ---- 3. the timer: an external interrupt and HLT, three times -----------------------------------
    mov eax, TIMER_VEC
    mov ebx, timer_handler
    call set_gate
    lidt [idt_ptr]
    call pic_and_pit
    sti
wait_tick:
    hlt
    cmp dword [ticks], 3
    jb wait_tick
    cli
    mov al, 0xFF
    out 0x21, al                      ; mask the timer again
    SHOW "ticks", [ticks]
    NL
    PRINTLN "done"
    EXIT 0x14

set_gate:                             ; EAX = vector, EBX = handler
    mov [idt + eax * 8], bx
    mov word [idt + eax * 8 + 2], 0x08
    mov word [idt + eax * 8 + 4], 0x8E00
    shr ebx, 16
    mov [idt + eax * 8 + 6], bx
    ret

pic_and_pit:
    PIC_REMAP 0xFE                ; the PICs as lesson 2 programs them: IRQ 0 at vector 0x20, only IRQ 0
    PIT_PERIODIC 11932            ; PIT channel 0: mode 2, IRQ 0 every 11932 PIT clocks
    ret

timer_handler:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al                      ; EOI
    pop eax
    iretd

section .data
align 4
ticks: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 8
idt: resb 256 * 8
section .text

%include "../_lib/end.inc"
