; hello.asm: a tiny Multiboot kernel that says hello on the serial port (COM1) and exits.
; Try it: F10 steps over, F11 steps into `putc`, Shift+F11 steps out, F5 runs to the end.
; Click left of a line number (or press F9) to set a breakpoint.
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000          ; the a.out kludge: the addresses below are valid
COM1     equ 0x3F8

mb_header:                       ; the Multiboot header the loader looks for
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header                 ; header_addr
    dd mb_header                 ; load_addr
    dd image_end                 ; load_end_addr
    dd image_end                 ; bss_end_addr
    dd _start                    ; entry_addr

_start:
    mov esp, stack_top           ; our own stack
    mov esi, message
    call puts                    ; print the greeting
    mov eax, 6
    mov ebx, 7
    mul ebx                      ; eax = 42
    call print_number
    mov al, 0x10
    out 0xF4, al                 ; debug exit: the run ends here
    cli
    hlt

; puts: prints the zero-terminated string at ESI.
puts:
    push eax
.next:
    mov al, [esi]
    test al, al
    jz .done
    call putc
    inc esi
    jmp .next
.done:
    pop eax
    ret

; putc: sends AL to COM1, waiting until the transmitter is empty.
putc:
    push edx
    push eax
    mov dx, COM1 + 5             ; line status register
.wait:
    in al, dx
    test al, 0x20                ; bit 5: ready for the next byte
    jz .wait
    pop eax
    mov dx, COM1
    out dx, al
    pop edx
    ret

; print_number: prints EAX in decimal, then a newline.
print_number:
    pushad
    mov ebx, 10
    xor ecx, ecx
.divide:
    xor edx, edx
    div ebx                      ; eax = eax / 10, edx = the last digit
    add dl, '0'
    push edx
    inc ecx
    test eax, eax
    jnz .divide
.emit:
    pop eax
    call putc
    loop .emit
    mov al, 10
    call putc
    popad
    ret

message: db "Hello from vizor! 6 * 7 = ", 0

align 16
    times 4096 db 0
stack_top:
image_end:
