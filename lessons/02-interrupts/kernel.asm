; Lesson 2 — interrupts and exceptions. A Multiboot kernel (loaded at 1 MiB in protected mode)
; builds an IDT with three gates: vector 0 (#DE, divide error), vector 13 (#GP, general protection,
; which pushes an error code) and vector 0x20 (IRQ 0 of the timer, after moving the PIC's vectors
; away from the exceptions). It lets the PIT tick five times, then causes a #DE and a #GP.
; Run it:  vizor run lessons/02-interrupts/kernel.asm
%include "../_lib/mb.inc"

PIC1_CMD  equ 0x20
PIC1_DATA equ 0x21
PIC2_CMD  equ 0xA0
PIC2_DATA equ 0xA1
PIT_CH0   equ 0x40
PIT_CMD   equ 0x43
TIMER_VEC equ 0x20                    ; IRQ 0 arrives as interrupt 0x20 after the remap
PIT_HZ    equ 1193182                 ; the PIT's input clock
TICK_HZ   equ 100

START
    PRINTLN "lesson 2: interrupts and exceptions"
    call build_idt
    call remap_pic
    call start_timer

; ---- the timer: five interrupts ---------------------------------------------------------------
    sti                               ; from now on IRQ 0 may interrupt us
.wait:
    hlt                               ; sleep until the next interrupt
    cmp dword [ticks], 5
    jb .wait
    cli
    mov al, 0xFF
    out PIC1_DATA, al                 ; mask every IRQ: the timer is done
    SHOW "ticks", [ticks]
    NL

; ---- a fault without an error code: divide by zero --------------------------------------------
    mov dword [resume], after_de
    xor edx, edx
    mov eax, 1234
    xor ecx, ecx
divide:
    div ecx                           ; #DE: the handler reports and resumes at after_de
after_de:

; ---- a fault with an error code: a selector beyond the GDT ------------------------------------
    mov dword [resume], after_gp
    mov ax, 0x1234                    ; index 0x246, far beyond our 16-entry GDT
load_ds:
    mov ds, ax                        ; #GP(0x1234): the error code is the selector
after_gp:
    mov ax, 0x10
    mov ds, ax
    PRINTLN "done"
    EXIT 0x11

; ---- the IDT ----------------------------------------------------------------------------------
; set_gate: EAX = vector, EBX = handler. A 32-bit interrupt gate: selector 0x08, present, DPL 0.
set_gate:
    mov [idt + eax * 8], bx           ; offset 15..0
    mov word [idt + eax * 8 + 2], 0x08
    mov word [idt + eax * 8 + 4], 0x8E00 ; present, DPL 0, type 0xE (32-bit interrupt gate)
    shr ebx, 16
    mov [idt + eax * 8 + 6], bx       ; offset 31..16
    ret

build_idt:
    mov eax, 0
    mov ebx, de_handler
    call set_gate
    mov eax, 13
    mov ebx, gp_handler
    call set_gate
    mov eax, TIMER_VEC
    mov ebx, timer_handler
    call set_gate
    lidt [idt_ptr]
    ret

; ---- the 8259A PIC pair: vectors 0x20..0x2F, only IRQ 0 unmasked ------------------------------
remap_pic:
    mov al, 0x11                      ; ICW1: edge triggered, cascade, ICW4 follows
    out PIC1_CMD, al
    out PIC2_CMD, al
    mov al, TIMER_VEC
    out PIC1_DATA, al                 ; ICW2: master vectors 0x20..0x27
    mov al, TIMER_VEC + 8
    out PIC2_DATA, al                 ; ICW2: slave vectors 0x28..0x2F
    mov al, 4
    out PIC1_DATA, al                 ; ICW3: slave on IRQ 2
    mov al, 2
    out PIC2_DATA, al
    mov al, 1
    out PIC1_DATA, al                 ; ICW4: 8086 mode
    out PIC2_DATA, al
    mov al, 0xFE
    out PIC1_DATA, al                 ; mask: only IRQ 0
    mov al, 0xFF
    out PIC2_DATA, al
    ret

; ---- the 8254 PIT: channel 0, mode 2 (rate generator), 100 Hz ----------------------------------
start_timer:
    mov al, 0x34                      ; channel 0, lobyte/hibyte, mode 2, binary
    out PIT_CMD, al
    mov ax, PIT_HZ / TICK_HZ          ; divisor 11931
    out PIT_CH0, al
    mov al, ah
    out PIT_CH0, al
    ret

; ---- handlers -----------------------------------------------------------------------------------
timer_handler:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out PIC1_CMD, al                  ; EOI: the PIC may deliver the next IRQ 0
    pop eax
    iretd

; The CPU pushed EFLAGS, CS, EIP (and for #GP an error code). We print what it pushed and return
; to [resume] instead of retrying the faulting instruction (which would fault forever).
de_handler:
    PRINT "divide error (#DE, vector 0) at EIP="
    HEX [esp]                         ; the faulting instruction: a fault points AT it
    NL
    mov eax, [resume]
    mov [esp], eax
    iretd

gp_handler:
    push eax
    mov ax, 0x10
    mov ds, ax                        ; DS may be the bad one: reload it first
    PRINT "general protection (#GP, vector 13) error code="
    HEX [esp + 4]                     ; the error code sits on top of the frame
    PRINT " at EIP="
    HEX [esp + 8]
    NL
    pop eax
    add esp, 4                        ; IRET does not pop the error code: we must
    push eax
    mov eax, [resume]
    mov [esp + 4], eax
    pop eax
    iretd

section .data
align 4
ticks:  dd 0
resume: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 8
idt: resb 256 * 8
section .text

%include "../_lib/end.inc"
