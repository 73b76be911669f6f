; Lesson 9 — scheduling VMs: the CPU-bound guest. It does a fixed amount of work (4 phases of a
; busy loop) and reports each phase. It never halts and never does I/O between phases, so only a
; preemption timer can take the CPU away from it.
;   vizor run lessons/09-scheduling/kernel.asm
;   vizor run --hv --vm lessons/09-scheduling/kernel.asm --vm lessons/09-scheduling/kernel.asm --vm lessons/09-scheduling/kernel.asm --sched rr
%include "../_lib/mb.inc"

PHASES     equ 4
ITERATIONS equ 500000                 ; per phase; about 4 instructions each

START
    PRINTLN "cpu-bound guest: start"
    xor esi, esi                      ; phase
    xor eax, eax                      ; the work's result
phase:
    mov ecx, ITERATIONS
work:
    add eax, ecx
    rol eax, 1
    loop work
    inc esi
    SHOW "phase", esi
    NL
    cmp esi, PHASES
    jb phase
    SHOW "result", eax
    NL
    EXIT 0x19

%include "../_lib/end.inc"
