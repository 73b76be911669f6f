; Lesson 9 — scheduling VMs: the spinning guest. It waits for a lock that only its own timer
; interrupt releases (a lock handed over from interrupt context), 20 times. Instead of halting it
; spins: PAUSE, look at the lock, again. Each wait lasts until the next tick of its ~1 kHz timer,
; about a millisecond of its own time. It counts its PAUSEs and prints the count at the end.
; Under VT-x the hypervisor notices the PAUSE loop (PAUSE-loop exiting): once the loop has spun
; longer than the PLE window, the guest exits with PAUSE_INSTRUCTION and yields the CPU.
;   vizor run lessons/09-scheduling/spinlock.asm
;   vizor run --hv --sched rr --vm lessons/09-scheduling/spinlock.asm --vm lessons/09-scheduling/kernel.asm
%include "../_lib/mb.inc"
%include "../_lib/sys.inc"

TIMER_VEC equ 0x20
ROUNDS    equ 20

START
    call idt_install
    PRINTLN "spinning guest: start"
    mov eax, TIMER_VEC
    mov ebx, timer_irq
    mov ecx, 0x8E
    call set_gate
    PIC_REMAP 0xFE                ; the PICs as lesson 2 programs them: IRQ 0 at vector 0x20, only IRQ 0
    PIT_PERIODIC 1193             ; PIT channel 0: mode 2, IRQ 0 every 1193 PIT clocks
    sti
    xor esi, esi                      ; PAUSEs executed
    xor edi, edi                      ; locks taken
acquire:
    pause                             ; "I am spinning": a hint to the CPU (and to a hypervisor)
    inc esi
    cmp dword [spin_lock], 0
    jne acquire
    mov eax, 1
    xchg eax, [spin_lock]             ; take it; the next timer tick releases it
    test eax, eax
    jnz acquire
    inc edi
    cmp edi, ROUNDS
    jb acquire
    cli
    SHOW "acquired", edi
    SHOW "pauses", esi
    SHOW "ticks", [ticks]
    NL
    EXIT 0x1B

timer_irq:
    push eax
    inc dword [ticks]
    mov dword [spin_lock], 0          ; the release
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

section .data
align 4
spin_lock: dd 1
ticks:     dd 0

%include "../_lib/end.inc"
