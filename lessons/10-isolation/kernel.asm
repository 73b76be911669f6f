; Lesson 10 — isolation: the well-behaved guest. It fills a buffer with a known pattern, then
; checks it five times with some work in between, and reports each round. If anything outside
; this VM could write into its memory, a round would say CORRUPT.
;   vizor run lessons/10-isolation/kernel.asm
;   vizor run --hv --vm lessons/10-isolation/kernel.asm --vm lessons/10-isolation/hostile.asm
%include "../_lib/mb.inc"

WORDS  equ 16384                      ; a 64 KiB buffer
ROUNDS equ 5

START
    PRINTLN "good guest: start"
    mov edi, buffer
    mov ecx, WORDS
    mov eax, 0x12345678
.fill:
    mov [edi], eax
    add edi, 4
    rol eax, 5
    add eax, ecx
    loop .fill
    call checksum
    mov [expected], eax
    xor esi, esi
round:
    inc esi
    mov ecx, 200000                   ; some work, so that a hostile neighbour gets its turns
.busy:
    loop .busy
    call checksum
    cmp eax, [expected]
    jne .corrupt
    SHOW "good: round", esi
    PRINTLN "ok"
    jmp .next
.corrupt:
    SHOW "good: round", esi
    PRINTLN "CORRUPT"
.next:
    cmp esi, ROUNDS
    jb round
    SHOW "checksum", [expected]
    NL
    EXIT 0x1B

checksum:                             ; EAX = a checksum of the buffer
    push ecx
    push esi
    xor eax, eax
    mov esi, buffer
    mov ecx, WORDS
.add:
    add eax, [esi]
    rol eax, 1
    add esi, 4
    loop .add
    pop esi
    pop ecx
    ret

section .data
align 4
expected: dd 0
section .bss
alignb 4096
buffer: resb WORDS * 4
section .text

%include "../_lib/end.inc"
