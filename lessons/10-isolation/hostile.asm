; Lesson 10 — isolation: the hostile guest. It tries, in turn, to write beyond its memory, to map
; a physical address far beyond it with a 4 MiB page, to flood an I/O port, to storm CPUID, and
; finally shuts its machine down with a triple fault. On bare metal it only hurts itself. As a
; guest it must not hurt anyone else either.
;   vizor run lessons/10-isolation/hostile.asm
%include "../_lib/mb.inc"

BEYOND  equ 0x7F00000                 ; 127 MiB: past the end of a 16 or 64 MiB machine
FAR_PHYS equ 0xF0000000               ; 3.75 GiB: no RAM there at all

START
    PRINTLN "hostile guest: start"

; 1. write past the end of memory (paging off: a physical address)
    mov edi, BEYOND
    mov ecx, 1024
    mov eax, 0xDEADBEEF
    rep stosd
    PRINTLN "hostile: wrote 4 KiB beyond memory"

; 2. a 4 MiB page whose frame is far beyond any RAM
    mov dword [page_dir], 0x83       ; 0..4 MiB -> 0 (present, writable, 4 MiB page)
    mov dword [page_dir + 4], FAR_PHYS | 0x83 ; 4..8 MiB -> 0xF0000000
    mov eax, cr4
    or eax, 0x10                      ; CR4.PSE: 4 MiB pages
    mov cr4, eax
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [0x400000], 0xBADC0DE
    mov eax, [0x400000]               ; no RAM there: vizor reads all ones, QEMU zeros
    PRINTLN "hostile: wrote and read through the far page"

; 3. a port flood and a CPUID storm
    mov ecx, 5000
.flood:
    out 0x80, al
    loop .flood
    mov esi, 5000
.storm:
    xor eax, eax
    cpuid
    dec esi
    jnz .storm
    PRINTLN "hostile: flood and storm done"

; 4. the end: no IDT at all, then an exception -> double fault -> triple fault
    PRINTLN "hostile: triple fault now"
    lidt [null_idt]
    int3
    PRINTLN "hostile: still alive?!"
    EXIT 0x7F

section .data
align 4
null_idt:
    dw 0
    dd 0
section .bss
alignb 4096
page_dir: resb 4096
section .text

%include "../_lib/end.inc"
