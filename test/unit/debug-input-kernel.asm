; The typed-input test kernel (test/unit/debug-input.test.ts, test/e2e/app-input.test.ts): waits in
; HLT for the timer (1 kHz) and the keyboard (IRQ 1); each key pressed is written to the VGA screen
; (row 2 on) and each byte received on COM1 is echoed back. ESI mixes every input with the tick
; count at which it arrived, so a key delivered at another moment gives another ESI. Stops after
; TOTAL inputs with the checksum on the serial console.
%include "lib/mb.inc"
%include "lib/sys.inc"

TOTAL equ 7

START
    call idt_install
    PRINTLN "type something"
    mov eax, 0x20
    mov ebx, timer_irq
    mov ecx, 0x8E
    call set_gate
    mov eax, 0x21
    mov ebx, kbd_irq
    mov ecx, 0x8E
    call set_gate
    PIC_REMAP 0xFC                ; PICs: IRQ 0-7 at vectors 0x20.., 8-15 at 0x28.., mask 0xFC on the master, the slave masked
    PIT_PERIODIC 1193             ; PIT channel 0: mode 2, one IRQ 0 every 1193 PIT clocks
    xor esi, esi
    mov edi, 0xB8000 + 2 * 160
    sti
wait_input:
    hlt
    mov dx, COM1 + 5
    in al, dx
    test al, 1
    jz .no_serial
    mov dx, COM1
    in al, dx
    call putc                         ; echo
    movzx eax, al
    call mix
.no_serial:
    cmp dword [count], TOTAL
    jb wait_input
    cli
    NL
    SHOW "sum", esi
    NL
    EXIT 0x11

; mix: ESI = (ESI rol 5) + EAX + ticks; one more input counted.
mix:
    rol esi, 5
    add esi, eax
    add esi, [ticks]
    inc dword [count]
    ret

timer_irq:
    push eax
    inc dword [ticks]
    mov al, 0x20
    out 0x20, al
    pop eax
    iretd

kbd_irq:
    push eax
    push ebx
    in al, 0x60
    test al, 0x80
    jnz .done                         ; key releases are not shown
    movzx ebx, al
    cmp ebx, keymap_end - keymap
    jae .done
    mov bl, [keymap + ebx]
    mov [edi], bl
    mov byte [edi + 1], 0x1E          ; yellow on blue
    add edi, 2
    movzx eax, bl
    call mix
.done:
    mov al, 0x20
    out 0x20, al
    pop ebx
    pop eax
    iretd

section .data
align 4
ticks: dd 0
count: dd 0
keymap:
    db 0, 27, "1234567890-=", 8, 9, "qwertyuiop[]", 13, 0, "asdfghjkl;'`", 0, "\zxcvbnm,./", 0, "*", 0, " "
keymap_end:
%include "lib/end.inc"
