; Lesson 3 — paging. The kernel builds a page directory and two page tables: the first 4 MiB are
; identity-mapped (linear = physical: the kernel, its stack, a pool of free frames), the next
; 4 MiB (0x400000..0x7FFFFF) start empty. Then it turns paging on and touches the empty region:
; one read that faults and is only reported, three writes that fault and are fixed by the page
; fault handler (demand paging: take a free frame, map it, retry), and one write to a read-only
; page (a protection fault, not a missing page). Run it: vizor run lessons/03-paging/kernel.asm
%include "../_lib/mb.inc"

PTE_P      equ 1                      ; present
PTE_W      equ 2                      ; writable
DEMAND     equ 0x400000               ; the empty region
RO_PAGE    equ DEMAND + 0x3FF000      ; a page we map read-only (the region's last page)
FRAME_POOL equ 0x200000               ; free physical frames (inside the identity map)

START
    PRINTLN "lesson 3: paging"
    call build_tables
    call install_pf_gate

    mov eax, page_dir
    mov cr3, eax                      ; CR3: physical address of the page directory
    mov eax, cr0
    or eax, 0x80010000                ; CR0.PG (paging) and CR0.WP (ring 0 honours read-only pages)
    mov cr0, eax
    PRINTLN "paging on"

; ---- 1. a page fault that is only reported ------------------------------------------------------
    mov dword [resume], after_read
read_missing:
    mov eax, [DEMAND]                 ; nothing mapped there: #PF, CR2 = 0x400000
after_read:

; ---- 2. demand paging: the handler maps a fresh frame and the write is retried -------------------
    mov dword [demand], 1
    mov edi, DEMAND
    mov ecx, 3
touch:
    mov [edi], edi                    ; first write to each page faults once
    mov [edi + 4], ecx                ; same page again: no fault now
    add edi, 0x1000
    loop touch
    mov eax, [DEMAND]
    add eax, [DEMAND + 0x1000]
    add eax, [DEMAND + 0x2000]
    SHOW "sum", eax                   ; 0x400000 + 0x401000 + 0x402000
    NL
    SHOW "frames used", [frames_used]
    NL

; ---- 3. a protection fault: the page is present but read-only ------------------------------------
    mov dword [resume], after_ro
    mov eax, [RO_PAGE]                ; reading is allowed
write_ro:
    mov [RO_PAGE], eax                ; writing is not: #PF with error code 3 (present + write)
after_ro:
    PRINTLN "done"
    EXIT 0x12

; ---- page tables ---------------------------------------------------------------------------------
build_tables:
    ; page_table_low: 1024 entries mapping 0..4 MiB onto themselves
    xor ecx, ecx
.low:
    mov eax, ecx
    shl eax, 12
    or eax, PTE_P | PTE_W
    mov [page_table_low + ecx * 4], eax
    inc ecx
    cmp ecx, 1024
    jb .low
    ; page_table_high (4..8 MiB) stays zero (not present) except one read-only page
    mov dword [page_table_high + ((RO_PAGE >> 12) & 0x3FF) * 4], (FRAME_POOL + 0xFF000) | PTE_P
    ; the directory: entry 0 -> low table, entry 1 -> high table, the rest not present
    mov eax, page_table_low
    or eax, PTE_P | PTE_W
    mov [page_dir + 0], eax
    mov eax, page_table_high
    or eax, PTE_P | PTE_W
    mov [page_dir + 4], eax
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

; ---- the page-fault handler ------------------------------------------------------------------------
; Stack on entry: error code, EIP, CS, EFLAGS. CR2 holds the linear address that faulted.
pf_handler:
    pushad
    mov eax, cr2
    mov ebx, [esp + 32]               ; the error code, above the 8 registers PUSHAD saved
    PRINT "page fault: CR2="
    HEX eax
    PRINT " error="
    HEX ebx
    test ebx, PTE_P                   ; bit 0: 1 = the page was present (a protection violation)
    jnz .report
    cmp dword [demand], 0
    je .report
    ; demand paging: a free frame, zeroed, mapped where the fault was; then retry
    mov edx, [frames_used]
    inc dword [frames_used]
    shl edx, 12
    add edx, FRAME_POOL
    push eax
    push edi
    push ecx
    mov edi, edx
    xor eax, eax
    mov ecx, 1024
    rep stosd
    pop ecx
    pop edi
    pop eax
    shr eax, 12
    and eax, 0x3FF                    ; index in page_table_high
    or edx, PTE_P | PTE_W
    mov [page_table_high + eax * 4], edx
    PRINT " -> mapped frame "
    HEX edx
    NL
    popad
    add esp, 4                        ; drop the error code
    iretd                             ; retry the instruction that faulted
.report:
    NL
    popad
    add esp, 4
    push eax
    mov eax, [resume]
    mov [esp + 4], eax                ; continue after the faulting instruction
    pop eax
    iretd

section .data
align 4
resume:      dd 0
demand:      dd 0
frames_used: dd 0
idt_ptr:
    dw 256 * 8 - 1
    dd idt
section .bss
alignb 4096
page_dir:        resb 4096
page_table_low:  resb 4096
page_table_high: resb 4096
idt:             resb 256 * 8
section .text

%include "../_lib/end.inc"
