; pagefault.asm: turns paging on with only the first 4 MiB mapped, then touches an address
; above it. The CPU raises #PF (vector 14): CR2 holds the address, the error code says why.
; Set a breakpoint in page_fault (click left of its line number), press F5, then open the
; CR0/CR3/CR4 tab (CR2) and the Paging tab (translate the address CR2 names).
bits 32
org 0x100000

MB_MAGIC equ 0x1BADB002
MB_FLAGS equ 0x00010000
COM1     equ 0x3F8

mb_header:
    dd MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)
    dd mb_header, mb_header, image_end, image_end, _start

_start:
    mov esp, stack_top
    lidt [idt_ptr]
    ; IDT entry 14 -> page_fault (a 32-bit interrupt gate in the loader's code segment)
    mov eax, page_fault
    mov [idt + 14*8], ax
    shr eax, 16
    mov [idt + 14*8 + 6], ax
    mov word [idt + 14*8 + 2], cs
    mov word [idt + 14*8 + 4], 0x8E00
    ; page table 0 maps 0..4 MiB one to one
    mov edi, page_table
    mov eax, 0x003                ; present, writable
    mov ecx, 1024
.fill:
    stosd
    add eax, 0x1000
    loop .fill
    mov dword [page_directory], page_table + 0x003
    mov eax, page_directory
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000            ; CR0.PG: paging on
    mov cr0, eax
    mov esi, msg_on
    call puts
    mov eax, [0x00800000]         ; 8 MiB: not mapped -> #PF
    hlt

page_fault:
    mov esi, msg_fault
    call puts
    mov al, 0x11
    out 0xF4, al                  ; debug exit
    cli
    hlt

puts:
    push eax
    push edx
.next:
    mov al, [esi]
    test al, al
    jz .done
    mov dx, COM1
    out dx, al
    inc esi
    jmp .next
.done:
    pop edx
    pop eax
    ret

msg_on:    db "paging is on", 10, 0
msg_fault: db "page fault!", 10, 0

idt_ptr:
    dw 256*8 - 1
    dd idt

align 4096
page_directory: times 1024 dd 0
page_table:     times 1024 dd 0
idt:            times 256 dq 0
    times 1024 db 0
stack_top:
image_end:
