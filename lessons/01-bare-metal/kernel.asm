; Lesson 1 — bare metal. One 512-byte boot sector: the BIOS loads it at 0000:7C00 and jumps to it
; in real mode (16-bit, segment:offset addresses, no protection). It prints on the serial port,
; switches to 32-bit protected mode (a GDT, CR0.PE, a far jump) and prints again, then ends the
; run through the debug-exit port. Run it:  vizor run lessons/01-bare-metal/kernel.asm
bits 16
org 0x7C00

COM1      equ 0x3F8
CODE_SEL  equ 0x08                    ; GDT entry 1: 32-bit code, base 0, limit 4 GiB
DATA_SEL  equ 0x10                    ; GDT entry 2: data, base 0, limit 4 GiB

start:
    cli                               ; no interrupts: we have no IDT of our own yet
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov sp, 0x7C00                    ; the stack grows down from below our code
    jmp 0:real_mode                   ; CS:IP = 0000:7C.. whatever the BIOS used

real_mode:
    call serial_init
    mov si, msg_real
    call puts16
    mov ax, cs                        ; show the real-mode segment and where we run
    call hex16
    mov si, msg_colon
    call puts16
    mov ax, real_mode
    call hex16
    mov si, msg_nl
    call puts16

    in al, 0x92                       ; "fast A20": let address bit 20 through
    or al, 2
    and al, 0xFE                      ; (bit 0 would reset the machine)
    out 0x92, al

    lgdt [gdt_ptr]                    ; the table of segment descriptors
    mov eax, cr0
    or eax, 1                         ; CR0.PE: protection enable
    mov cr0, eax
    jmp CODE_SEL:protected_mode       ; reload CS from the GDT: now we execute 32-bit code

; ---- 16-bit serial helpers --------------------------------------------------------------------
serial_init:
    mov dx, COM1 + 1
    xor al, al
    out dx, al                        ; no UART interrupts
    mov dx, COM1 + 3
    mov al, 3
    out dx, al                        ; 8 data bits, no parity, 1 stop bit
    ret

putc16:                               ; AL = character
    push dx
    push ax
    mov dx, COM1 + 5                  ; line status register
.wait:
    in al, dx
    test al, 0x20                     ; transmitter holding register empty?
    jz .wait
    pop ax
    mov dx, COM1
    out dx, al
    pop dx
    ret

puts16:                               ; DS:SI = zero-terminated text
    lodsb
    test al, al
    jz .done
    call putc16
    jmp puts16
.done:
    ret

hex16:                                ; AX as 4 hex digits
    mov cx, 4
.digit:
    rol ax, 4
    mov bx, ax
    and bx, 0xF
    push ax
    mov al, [hexdigits + bx]
    call putc16
    pop ax
    loop .digit
    ret

; ---- 32-bit code --------------------------------------------------------------------------------
bits 32
protected_mode:
    mov ax, DATA_SEL                  ; every data segment register gets a protected-mode selector
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov esp, 0x90000
    mov esi, msg_prot
    call puts32
    mov eax, cr0
    and eax, 1
    add al, '0'
    call putc32                       ; prints "PE=1"
    mov esi, msg_bye
    call puts32
    mov al, 0x10                      ; debug exit: vizor (and QEMU) stop with status (0x10<<1)|1 = 33
    out 0xF4, al
    cli
    hlt

putc32:
    push edx
    push eax
    mov dx, COM1 + 5
.wait:
    in al, dx
    test al, 0x20
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

puts32:
    lodsb
    test al, al
    jz .done
    call putc32
    jmp puts32
.done:
    ret

; ---- data ---------------------------------------------------------------------------------------
hexdigits: db '0123456789abcdef'
msg_real:  db 'real mode: running at ', 0
msg_colon: db ':', 0
msg_nl:    db 10, 0
msg_prot:  db 'protected mode: PE=', 0
msg_bye:   db 10, 'bye from 32-bit code', 10, 0

align 8
gdt:
    dq 0                              ; entry 0 must be null
    dq 0x00CF9A000000FFFF             ; 0x08: code, ring 0, 32-bit, base 0, 4 GiB (G=1)
    dq 0x00CF92000000FFFF             ; 0x10: data, ring 0, writable, base 0, 4 GiB
gdt_end:
gdt_ptr:
    dw gdt_end - gdt - 1              ; limit
    dd gdt                            ; linear address of the table

    times 510 - ($ - $$) db 0         ; pad to 510 bytes ...
    dw 0xAA55                         ; ... and the signature the BIOS looks for
