; The debugger's test kernel (test/unit/debug-machine.test.ts, test/conformance/gdb-stub.test.ts):
; calls, INT n, a store and a load, REP STOSB and MOVSB, paging switched on (a mode event), a demand-paging
; #PF whose handler maps the page and retries the load, port I/O, serial output, the debug exit.
; Labels name the places the tests stop at. Runs the same under QEMU (status (0x22<<1)|1).
%include "lib/mb.inc"
%include "lib/sys.inc"

PD  equ 0x300000
PT0 equ 0x301000
PT1 equ 0x302000
START
    call idt_install
    mov eax, 14
    mov ebx, pf_handler
    mov cl, 0x8E
    call set_gate
    mov eax, 0x40
    mov ebx, int40
    mov cl, 0x8E
    call set_gate
    PRINTLN "dbg"
    xor eax, eax
    mov ecx, 3
loop_top:
    inc eax
    loop loop_top
call_site:
    call func
after_call:
    int 0x40
after_int:
    mov [var], eax
after_store:
    mov ebx, [var2]
after_load:
    mov edi, buf
    mov ecx, 16
    mov al, 0x5a
rep_site:
    rep stosb
after_rep:
    mov esi, buf
    mov edi, buf + 32
    mov ecx, 8
movs_site:
    rep movsb
after_movs:
    call paging_on
fault_site:
    mov eax, [0x400010]
after_fault:
    mov al, 0x42
    out 0x80, al
after_out:
    PRINTLN "done"
    EXIT 0x22

func:
    inc edx
    call inner
after_inner_call:
    ret
inner:
    inc esi
    nop
    ret

int40:
    add ebp, 1
    iret

paging_on:
    pushad
    mov dword [0x500010], 0x1234       ; what the faulting load will read
    mov edi, PD
    mov ecx, 3 * 1024
    xor eax, eax
    rep stosd
    mov edi, PT0
    mov eax, 3
.ident:
    stosd
    add eax, 4096
    cmp edi, PT0 + 4096
    jb .ident
    mov dword [PD], PT0 | 3
    mov dword [PD + 4], PT1 | 3
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
mode_site:
    mov cr0, eax
    popad
    ret

; demand paging: map the faulting page to physical 0x500000 and retry
pf_handler:
    push eax
    mov dword [PT1], 0x500000 | 3
    mov eax, cr2
    invlpg [eax]
    pop eax
    add esp, 4
pf_iret:
    iret

section .data
var:  dd 0
var2: dd 0x77
section .bss
buf:  resb 64
%include "lib/end.inc"
