; Kinds of virtual machines. This kernel contains a *language* VM: a tiny stack machine with five
; bytecodes, interpreted by a loop of x86 instructions — the way the JVM's or CPython's
; interpreter runs bytecode. The kernel itself can run on the bare PC or inside vizor's
; *hardware-level* VM, where its x86 instructions run directly on the (emulated) CPU.
; It also asks CPUID whether a hypervisor says it is there (leaf 1, ECX bit 31).
;   vizor run lessons/00-kinds-of-vms/kernel.asm
%include "../_lib/mb.inc"

OP_PUSH  equ 1                        ; push the next byte
OP_ADD   equ 2
OP_MUL   equ 3
OP_PRINT equ 4                        ; pop and print
OP_HALT  equ 5

START
    PRINTLN "kinds of VMs"
    mov esi, program                  ; the bytecode "program counter"
    mov ebp, vm_stack_top             ; the bytecode VM's own stack
    xor edi, edi                      ; bytecodes executed
interpret:
    movzx eax, byte [esi]
    inc esi
    inc edi
    cmp al, OP_PUSH
    je .push
    cmp al, OP_ADD
    je .add
    cmp al, OP_MUL
    je .mul
    cmp al, OP_PRINT
    je .print
    cmp al, OP_HALT
    je .halt
    PRINTLN "bad bytecode"
    EXIT 0x7F
.push:
    movzx eax, byte [esi]
    inc esi
    sub ebp, 4
    mov [ebp], eax
    jmp interpret
.add:
    mov eax, [ebp]
    add ebp, 4
    add [ebp], eax
    jmp interpret
.mul:
    mov eax, [ebp]
    add ebp, 4
    imul eax, [ebp]
    mov [ebp], eax
    jmp interpret
.print:
    SHOW "bytecode result", [ebp]
    NL
    add ebp, 4
    jmp interpret
.halt:
    SHOW "bytecodes executed", edi
    NL

    mov eax, 1
ask_cpuid:
    cpuid
    shr ecx, 31
    SHOW "cpuid hypervisor bit", ecx
    NL
    EXIT 0x10

section .data
; (6 * 7) print, (2 + 3) * 4 print, halt
program: db OP_PUSH, 6, OP_PUSH, 7, OP_MUL, OP_PRINT
         db OP_PUSH, 2, OP_PUSH, 3, OP_ADD, OP_PUSH, 4, OP_MUL, OP_PRINT, OP_HALT
section .bss
alignb 4
    resb 256
vm_stack_top:
section .text

%include "../_lib/end.inc"
