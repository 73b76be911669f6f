; Lesson 7 — shadow page tables. The guest kernel maps three pages at 0x401000..0x403FFF, leaves
; 0x400000 unmapped, turns paging on and then: reads the three pages (pass 1), writes 0x400000
; (its own page fault: the handler maps a frame and retries), reads all four (pass 2), switches
; CR3 to a second directory and back, invalidates one page with INVLPG and reads it again.
; On bare metal there is exactly one page fault. Under a shadow-paging VMM there are many more,
; and the guest sees only that one.
;   vizor run lessons/07-shadow-paging/kernel.asm
;   vizor run lessons/07-shadow-paging/kernel.asm --hv --paging shadow --trace /tmp/l7.ndjson --trace-kinds pagefault,shadow,exit
%include "../_lib/mb.inc"

PTE_P   equ 1
PTE_W   equ 2
REGION  equ 0x400000                  ; page 0 unmapped, pages 1..3 mapped
FRAMES  equ 0x300000                  ; guest-physical frames behind the region

START
    PRINTLN "lesson 7: shadow page tables"
    call build_tables
    call install_pf_gate
    mov eax, page_dir
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000                ; CR0.PG
    mov cr0, eax
    jmp pass1                         ; the jump the 386 manual asks for right after setting PG

; ---- pass 1: three mapped pages, first touch ------------------------------------------------------
pass1:
    mov eax, [REGION + 0x1000]
    add eax, [REGION + 0x2000]
    add eax, [REGION + 0x3000]
; ---- the guest's own fault: 0x400000 is not in its tables -----------------------------------------
pass1_write:
    mov dword [REGION], 0x600D
; ---- pass 2: all four again --------------------------------------------------------------------------
pass2:
    mov eax, [REGION]
    add eax, [REGION + 0x1000]
    add eax, [REGION + 0x2000]
    add eax, [REGION + 0x3000]
pass2_end:
    SHOW "pass 2 sum", eax
    NL
    SHOW "guest page faults", [faults]
    NL

; ---- a CR3 switch: to a second address space and back ------------------------------------------------
    mov eax, page_dir2
switch_cr3:
    mov cr3, eax
    mov eax, page_dir
switch_back:
    mov cr3, eax
; ---- INVLPG: the guest drops one translation, then uses the page again ----------------------------
    mov eax, REGION + 0x1000
do_invlpg:
    invlpg [eax]
pass3:
    mov eax, [REGION + 0x1000]
    SHOW "after invlpg", eax
    NL
    PRINTLN "done"
    EXIT 0x17

; ---- tables: page_dir -> low (identity 0..4 MiB) and high (the region); page_dir2 = a copy ----------
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
    mov ecx, 1                        ; pages 1..3 of the region -> FRAMES + 0x1000 * n
.high:
    mov eax, ecx
    shl eax, 12
    add eax, FRAMES
    mov dword [eax], 0x1000           ; paging is still off: write each frame's first word
    add dword [eax], ecx              ; (0x1001, 0x1002, 0x1003) so the sums show which page
    or eax, PTE_P | PTE_W
    mov [pt_high + ecx * 4], eax
    inc ecx
    cmp ecx, 4
    jb .high
    mov eax, pt_low
    or eax, PTE_P | PTE_W
    mov [page_dir], eax
    mov [page_dir2], eax
    mov eax, pt_high
    or eax, PTE_P | PTE_W
    mov [page_dir + 4], eax
    mov [page_dir2 + 4], eax
    ret

install_pf_gate:
    mov ebx, pf_handler
    mov [idt + 14 * 8], bx
    mov word [idt + 14 * 8 + 2], 0x08
    mov word [idt + 14 * 8 + 4], 0x8E00
    shr ebx, 16
    mov [idt + 14 * 8 + 6], bx
    lidt [idt_ptr]
    ret

; The guest's page-fault handler: demand-maps the faulting page of the region and retries.
pf_handler:
    push eax
    push ebx
    inc dword [faults]
    mov eax, cr2
    PRINT "guest #PF at "
    HEX eax
    NL
    shr eax, 12
    and eax, 0x3FF                    ; the page's index in pt_high
    mov ebx, eax
    shl ebx, 12
    add ebx, FRAMES                   ; its frame: FRAMES + index * 4 KiB
    or ebx, PTE_P | PTE_W
map_pte:
    mov [pt_high + eax * 4], ebx      ; a write to a page table: the VMM must see it
    pop ebx
    pop eax
    add esp, 4                        ; the error code
    iretd

section .data
align 4
faults: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 4096
page_dir:  resb 4096
page_dir2: resb 4096
pt_low:    resb 4096
pt_high:   resb 4096
idt:       resb 256 * 8
section .text

%include "../_lib/end.inc"
