; Lesson 11 — a legacy real-mode program. The boot sector plays the part of a tiny DOS: it reads
; the program from the next disk sectors with the BIOS (INT 13h) to segment 0x0800, offset 0x100
; — where DOS put a .COM program — points DS, ES and SS at that segment and jumps there. The
; program never leaves real mode and talks to the machine only through BIOS services:
; INT 10h (teletype output), INT 12h (memory size), INT 13h (disk), INT 1Ah (clock ticks).
; Run it: vizor run lessons/11-legacy-real-mode/kernel.asm --vga
bits 16
org 0x7C00

PROG_SEG     equ 0x0800               ; the program's segment (linear 0x8000)
PROG_SECTORS equ 2

section loader
loader:
    cli
    xor ax, ax
    mov ds, ax
    mov ss, ax
    mov sp, 0x7C00
    sti
    mov [boot_drive], dl              ; the BIOS tells us which drive we came from
    mov ax, PROG_SEG
    mov es, ax
    mov bx, 0x100                     ; ES:BX = 0800:0100, the buffer
    mov ax, 0x0200 | PROG_SECTORS     ; AH=02 read sectors, AL = how many
    mov cx, 0x0002                    ; cylinder 0, sector 2 (sectors count from 1)
    xor dh, dh                        ; head 0
    mov dl, [boot_drive]
    int 0x13
    jc .fail
    mov dl, [boot_drive]              ; hand the drive number on, as DOS would keep it
    mov ax, PROG_SEG
    mov ds, ax
    mov es, ax
    cli
    mov ss, ax
    mov sp, 0xFFFE                    ; the top of the program's 64 KiB segment
    sti
    jmp PROG_SEG:0x100                ; far jump: CS = 0x0800, IP = 0x0100
.fail:
    mov al, 0x7E
    out 0xF4, al
    hlt
boot_drive: db 0
    times 510 - ($ - $$) db 0
    dw 0xAA55

; ---- the program: 0800:0100 -------------------------------------------------------------------
section program follows=loader vstart=0x100
program:
    mov [drive], dl
    mov si, s_hello
    call print
    mov ax, cs
    call hex16
    mov al, ':'
    call putc
    mov ax, program
    call hex16
    call crlf

    int 0x12                          ; AX = KiB of conventional memory (below 640 KiB)
    mov [mem_kb], ax
    mov si, s_mem
    call print
    mov ax, [mem_kb]
    call dec16
    mov si, s_kb
    call print

    mov ah, 0x00
    int 0x1A                          ; CX:DX = timer ticks since midnight (18.2 per second)
    mov si, s_ticks
    call print
    mov ax, cx
    call hex16
    mov ax, dx
    call hex16
    call crlf

    mov ax, 0x0201                    ; read 1 sector ...
    mov cx, 0x0001                    ; ... sector 1: the boot sector again
    xor dh, dh
    mov dl, [drive]
    mov bx, sector                    ; into ES:sector
    int 0x13
    mov si, s_sig
    call print
    mov ax, [sector + 510]
    call hex16
    call crlf

    mov si, s_linear                  ; segment * 16 + offset, by hand
    call print
    mov ax, ds
    mov dx, 16
    mul dx                            ; DX:AX = DS * 16
    add ax, sector
    adc dx, 0
    push ax
    mov ax, dx
    call hex16
    pop ax
    call hex16
    call crlf

    mov si, s_bye
    call print
    mov al, 0x13
    out 0xF4, al                      ; the debug-exit port: no BIOS service ends a PC run
    cli
    hlt

; ---- BIOS teletype output -------------------------------------------------------------------
putc:                                 ; AL
    push ax
    push bx
    mov ah, 0x0E                      ; INT 10h AH=0Eh: teletype output at the cursor
    mov bx, 0x0007                    ; page 0, light grey
    int 0x10
    pop bx
    pop ax
    ret
print:                                ; DS:SI
    lodsb
    test al, al
    jz .done
    call putc
    jmp print
.done:
    ret
crlf:
    push ax
    mov al, 13
    call putc
    mov al, 10
    call putc
    pop ax
    ret
hex16:                                ; AX
    push ax
    push bx
    push cx
    mov cx, 4
.digit:
    rol ax, 4
    mov bx, ax
    and bx, 0xF
    push ax
    mov al, [hexdigits + bx]
    call putc
    pop ax
    loop .digit
    pop cx
    pop bx
    pop ax
    ret
dec16:                                ; AX in decimal
    push ax
    push cx
    push dx
    push bx
    xor cx, cx
    mov bx, 10
.divide:
    xor dx, dx
    div bx
    push dx
    inc cx
    test ax, ax
    jnz .divide
.out:
    pop ax
    add al, '0'
    call putc
    loop .out
    pop bx
    pop dx
    pop cx
    pop ax
    ret

hexdigits: db '0123456789ABCDEF'
s_hello:  db 'legacy program running at ', 0
s_mem:    db 'conventional memory: ', 0
s_kb:     db ' KiB', 13, 10, 0
s_ticks:  db 'BIOS clock ticks: ', 0
s_sig:    db 'boot sector signature: ', 0
s_linear: db 'sector buffer at linear ', 0
s_bye:    db 'bye', 13, 10, 0
drive:    db 0
mem_kb:   dw 0
sector:   times 512 db 0
    times 1024 - ($ - $$) db 0        ; two whole sectors
