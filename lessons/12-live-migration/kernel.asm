; Lesson 12 — live migration. A guest that dirties its memory at a rate you choose: it writes one
; dword into each of PAGES pages in turn, with DELAY turns of a 2-instruction loop between two
; writes, so one page is dirtied every 5 + 2*DELAY instructions (32 ns each: DELAY 20000 = one page
; per 1.28 ms of virtual time). After PASSES passes it prints a checksum of the pages it wrote.
; Migrate it with `vizor migrate`, then make DELAY small and watch pre-copy stop converging.
%ifndef DELAY
%define DELAY 20000
%endif
%define PAGES 128
%ifndef PASSES
%define PASSES 4
%endif
%include "../_lib/mb.inc"

START
    PRINTLN "migration lesson: writer start"
    mov eax, 1              ; the value written (never zero)
    mov esi, PASSES
pass:
    mov edi, buffer
    mov ebx, PAGES
write_page:                 ; dirties one page: 5 + 2*DELAY instructions per page
    mov [edi], eax
    add edi, 4096
    mov ecx, DELAY
delay:
    dec ecx
    jnz delay
    dec ebx
    jnz write_page
    SHOW "pass", eax
    NL
    inc eax
    dec esi
    jnz pass
    xor edx, edx            ; checksum: the first dword of every page, rotated in
    mov edi, buffer
    mov ebx, PAGES
sum:
    add edx, [edi]
    rol edx, 1
    add edi, 4096
    dec ebx
    jnz sum
    SHOW "checksum", edx
    NL
    EXIT 0x24

section .bss
alignb 4096
buffer: resb PAGES * 4096
%include "../_lib/end.inc"
