; Lesson 6 — the virtualization hole. Three sensitive but unprivileged instructions: they behave
; differently depending on the privilege level they run at, yet never fault. On bare metal (ring 0)
; they do what the kernel expects. Deprivileged to ring 1 by a classic trap-and-emulate VMM, they
; silently misbehave — and the VMM never hears of it.
;   vizor run lessons/06-virtualization-hole/kernel.asm
;   vizor run lessons/06-virtualization-hole/kernel.asm --hv --cpu deprivilege
%include "../_lib/mb.inc"

START
    PRINTLN "lesson 6: the virtualization hole"
    mov al, 0xFF
    out 0x21, al                      ; mask every IRQ: we only play with the IF flag
    out 0xA1, al

; ---- 1. POPF cannot clear IF outside ring 0 (with IOPL 0), and does not fault either ------------
    sti                               ; IF = 1 (privileged: a deprivileging VMM emulates it)
    pushfd
    and dword [esp], ~0x200           ; the kernel wants IF = 0 ...
do_popf:
    popfd                             ; ... bare: IF = 0. Ring 1: IF silently stays 1
    pushfd
    pop eax
    shr eax, 9
    and eax, 1
    SHOW "IF after popf", eax
    NL
    cli

; ---- 2. SGDT reveals the GDT the CPU really uses ------------------------------------------------
do_sgdt:
    sgdt [gdtr_seen]                  ; not privileged: any ring may read GDTR
    mov eax, [gdtr_seen + 2]          ; the base
    cmp eax, gdt                      ; the table we loaded with LGDT in START
    je .ours
    PRINTLN "SGDT shows our GDT: no"
    jmp .next
.ours:
    PRINTLN "SGDT shows our GDT: yes"
.next:

; ---- 3. CS tells the current privilege level -----------------------------------------------------
read_cs:
    mov eax, cs                       ; the low two bits of CS are the CPL
    and eax, 3
    SHOW "CPL seen in CS", eax
    NL
    PRINTLN "done"
    EXIT 0x16

section .data
align 4
gdtr_seen: times 6 db 0
section .text

%include "../_lib/end.inc"
