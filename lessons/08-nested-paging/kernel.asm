; Lesson 8 — nested paging. The same kind of guest as lesson 7, with three workloads:
;   pass_a / pass_b  write, then read, eight fresh pages (first touch vs second touch)
;   probe            one read of a page never touched before: one complete translation
;   cr3_loop         50 round trips between two address spaces (a process switch, twice)
; Run it bare, under shadow paging and under nested paging, and compare the exits.
;   vizor run lessons/08-nested-paging/kernel.asm --trace /tmp/l8.ndjson --trace-kinds walk,tlb
;   vizor run lessons/08-nested-paging/kernel.asm --hv --paging nested --trace /tmp/l8n.ndjson --trace-kinds walk,pagefault,exit
%include "../_lib/mb.inc"

PTE_P   equ 1
PTE_W   equ 2
REGION  equ 0x400000                  ; 8 pages -> FRAMES
FRAMES  equ 0x800000                  ; guest-physical 8 MiB: nothing has touched it
PAGES   equ 8
PROBE   equ 0x500000                  ; one more page -> PROBE_FRAME
PROBE_FRAME equ 0x900000
ROUNDS  equ 50

START
    PRINTLN "lesson 8: nested paging"
    call build_tables
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax

    mov edi, REGION
    mov ecx, PAGES
pass_a:
    mov [edi], ecx                    ; first touch of each page
    add edi, 0x1000
    loop pass_a
    xor eax, eax
    mov esi, REGION
    mov ecx, PAGES
pass_b:
    add eax, [esi]                    ; second touch: 8 + 7 + ... + 1 = 36
    add esi, 0x1000
    loop pass_b
pass_end:
    SHOW "pass sum", eax
    NL

probe:
    mov eax, [PROBE]                  ; one translation, start to end
    SHOW "probe", eax
    NL

    mov ebx, page_dir2
    mov edx, page_dir
    mov ecx, ROUNDS
cr3_loop:
cr3_a:
    mov cr3, ebx                      ; "switch to the other process"
    add eax, [REGION]
cr3_b:
    mov cr3, edx                      ; and back
    add eax, [REGION + 0x1000]
    loop cr3_loop
cr3_end:
    SHOW "after switches", eax
    NL
    PRINTLN "done"
    EXIT 0x18

build_tables:
    xor ecx, ecx
.low:
    mov eax, ecx
    shl eax, 12
    or eax, PTE_P | PTE_W
    mov [pt_low + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jb .low
    xor ecx, ecx
.high:
    mov eax, ecx
    shl eax, 12
    add eax, FRAMES | PTE_P | PTE_W
    mov [pt_high + ecx * 4], eax
    inc ecx
    cmp ecx, PAGES
    jb .high
    mov dword [pt_high + ((PROBE >> 12) & 0x3FF) * 4], PROBE_FRAME | PTE_P | PTE_W
    mov eax, pt_low
    or eax, PTE_P | PTE_W
    mov [page_dir], eax
    mov [page_dir2], eax
    mov eax, pt_high
    or eax, PTE_P | PTE_W
    mov [page_dir + 4], eax
    mov [page_dir2 + 4], eax
    ret

section .bss
alignb 4096
page_dir:  resb 4096
page_dir2: resb 4096
pt_low:    resb 4096
pt_high:   resb 4096
section .text

%include "../_lib/end.inc"
