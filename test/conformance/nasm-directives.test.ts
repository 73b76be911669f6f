// Directives, preprocessor, expressions and layout against NASM: many small programs, each
// assembled by both; the bytes must be identical (a mismatch names the first differing line).
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { firstMismatch, runNasm } from './nasm-oracle.ts';

const PROGRAMS: Record<string, string> = {
  'number forms': `
dd 0x1F, 1Fh, 0h1F, $1F, 0x_1f_00, 17, 17d, 0d17, 0t17, 17t
dd 0b1011, 1011b, 0y1011, 1011y, 0b1010_1010, 17q, 17o, 0o17, 0q17
dw 'ab', "c", \`\\n\\t\`, 'abcd' & 0xffff
dq 0xFFFFFFFFFFFFFFFF, -1, 1 << 40, 0x123456789abcdef0
db -1, -128, 255, ~0 & 0xff`,
  'operators and precedence': `
dd 1 + 2 * 3, (1 + 2) * 3, 7 / 2, -7 // 2, 7 % 3, -7 %% 3, 1 << 4 >> 2
dd 5 & 3 | 8 ^ 1, 1 && 0, 1 || 0, 1 ^^ 1, !0, !5, ~5, -(-3), +4
dd 3 == 3, 3 != 4, 2 < 3, 3 <= 3, 4 > 5, 5 >= 5, 3 <> 3, 1 = 1
dd 2 + 3 << 1, 1 | 2 == 2, 10 - 2 - 3, 100 / 10 / 5, 0x80000000 >> 4
dd (1 ? 2 : 3), 0 ? 4 : 5`,
  'labels, locals, $ and $$': `
org 0x7c00
start:
  jmp .skip
.data: db 1, 2
.skip:
  mov ax, .data
  mov bx, start.data
  mov cx, $ - start
  mov dx, $$
other:
.data: dw other.data - start.data
  times 16 - ($ - $$) % 16 db 0x90
  dw $ - $$`,
  'times and boot signature': `
bits 16
org 0x7c00
  cli
  xor ax, ax
  mov ds, ax
  jmp $
msg: db "Hello", 13, 10, 0
times 510 - ($ - $$) db 0
dw 0xaa55`,
  'equ and forward references': `
mov ax, [bx + later]
add ax, later2
mov cx, later3 * 2
jmp short fwd
db 1
fwd:
later equ 5
later2 equ 0x1234
later3 equ later + 1
size equ end - start
start: db 1, 2, 3
end:
dw size`,
  'jump sizes converge like NASM': `
bits 32
a: jmp b
  times 120 db 0x90
  jz b
  jnz a
b: times 5 nop
  jmp a
  loop b
  call a
  jmp near b
  jmp short b
  jecxz b
c: times 130 nop
  jmp c
  jg c
  jmp d
  times 125 nop
d: ret`,
  'immediates: sign-extended forms': `
bits 32
add eax, 1
add eax, 127
add eax, 128
add eax, -128
add eax, -129
add ax, 0xffff
add ax, 0xff80
and ecx, 0xfffffff0
push 5
push 500
push -1
imul eax, ebx, 3
imul eax, ebx, 300
imul edx, 7
cmp byte [ebx], 1
cmp dword [ebx], 1
mov eax, 1
shl eax, 1
shl eax, 2
rol word [esi], 1
sub esp, byte 8
add eax, strict dword 1
push strict word 1`,
  'addressing forms': `
bits 16
mov ax, [bx]
mov ax, [bp]
mov ax, [bp+2]
mov ax, [si+bx]
mov ax, [di+bp+300]
mov ax, [es:di]
mov ax, [cs:0x10]
mov al, [0x1234]
mov [es:0x10], ax
mov eax, [eax+ebx*4+8]
mov eax, [esp+4]
mov eax, [ebp-4]
lea eax, [eax*2]
lea eax, [eax*3]
lea eax, [eax*5]
lea eax, [eax*8+1]
lea eax, [nosplit eax*2]
bits 32
mov eax, [ebx+ecx]
mov eax, [ecx*1+ebx]
mov eax, [esp+esi]
mov eax, [ebp+0]
mov eax, [byte ebx+1]
mov eax, [dword ebx+1]
mov ax, [bx+si]
mov eax, [fs:eax]
mov eax, [gs:0x10]
mov [ss:esp+8], edx`,
  'prefixes and segments': `
bits 16
rep movsb
repe cmpsw
repne scasb
lock inc word [bx]
o32 movsw
a32 lodsb
es lodsb
rep stosd
bits 32
o16 stosw
rep movsd
lock xadd [eax], ebx
push fs
pop gs
mov ds, ax
mov ax, ds
mov eax, cr0
mov cr3, eax
mov dr7, eax`,
  'far jumps and calls': `
bits 16
jmp 0x08:0x1234
call 0xf000:0xfff0
jmp far [bx]
call far [si+4]
jmp 0x08:target
bits 32
jmp 0x08:target
jmp word 0x10:0x20
call far [eax]
jmp far dword [ebx]
retf
retf 4
target: iret`,
  'sections: .text .data .bss with org': `
org 0x1000
section .text
  mov eax, value
  mov ebx, buffer
  mov ecx, more
section .data
value: dd 0x12345678
section .bss
buffer: resb 64
section .data
more: db "more", 0
section .text
  ret`,
  'sections: align, vstart, follows, start': `
section .text
  dd s1, s2, s3, s4
section .s1 vstart=0x1000
s1: db 1
s1b: dd s1b
section .s2 follows=.text align=16
s2: db 2
section .s3 start=0x80
s3: db 3
section .s4 align=32
s4: db 4, 5`,
  'align and alignb': `
section .text
  nop
  align 4
  db 1
  align 16
  db 2
  align 8, db 0xcc
  dw $ - $$
section .data
  db 1
  align 8
  dd 2
  align 16, db 0
section .bss
  resb 3
  alignb 8
bssl: resq 1
section .text
  dd bssl`,
  'data directives: strings, dq, floats, resb': `
db 'abc', 0, "it's", \`tab\\there\\x41\\101\`
dw 'abc'
dd 'abcde'
dq 'hi'
dd 1.5, -0.25, 3.0e2
dq 2.5, 1.0e-3
dw 1, 2, 3
db 256 - 1
section .bss
r: resb 10
resw 2
resd 3
resq 1`,
  'single-line macros': `
%define A 5
%define B(x) (x * 2)
%define C(x, y) x + y
%define STR "hi"
%xdefine D A + 1
%define A 7
db A, B(3), C(1, 2), D, STR
%undef A
%define A 9
db A
%assign n 3
%assign n n * 2 + 1
db n
%idefine Foo 0x42
db FOO, foo
%defstr S hello
db S`,
  'multi-line macros': `
%macro pushall 0
  push ax
  push bx
%endmacro
%macro load 2
  mov %1, %2
%endmacro
%macro many 1-*
  %rep %0
    db %1
    %rotate 1
  %endrep
%endmacro
%macro dflt 1-2 7
  db %1, %2
%endmacro
%macro greedy 1+
  db %1
%endmacro
%macro loc 0
  jmp %%skip
  db 0xAA
%%skip:
  nop
%endmacro
pushall
load ax, 5
load bl, [si]
many 1, 2, 3, 4
dflt 1
dflt 1, 2
greedy 1, 2, 3
loc
loc
lbl: pushall`,
  '%rep, %if family': `
%assign i 0
%rep 5
  db i
  %assign i i + 1
%endrep
%rep 10
  %if i > 7
    %exitrep
  %endif
  db i * 10
  %assign i i + 1
%endrep
%define X
%ifdef X
  db 1
%else
  db 2
%endif
%ifndef Y
  db 3
%endif
%if 0
  db 4
%elif 1
  db 5
%else
  db 6
%endif
%ifidn foo, foo
  db 7
%endif
%ifidni FOO, foo
  db 8
%endif
%ifnum 12
  db 9
%endif
%ifstr "s"
  db 10
%endif`,
  'nested macros, %{n}, pasting, %0, nested %rep': `
%macro outer 2
  inner %1
  db %2
%endmacro
%macro inner 1
  mov ax, %1
%%x: jmp %%x
%endmacro
%macro cat 2
  mov %1%2, 1
  dw %{1}_x
%endmacro
%define PREFIX e
outer 5, 7
outer bx, {1, 2}
cat a, x
cat b, x
a_x: nop
b_x: nop
%macro count 0-*
  db %0
%endmacro
count
count 1
count 1, 2, 3
%define twice(x) x + x
db twice(3), twice(2)
%define EMPTY
db 1 EMPTY
%assign i 0
%rep 3
  %assign j 0
  %rep 2
    db i * 10 + j
    %assign j j + 1
  %endrep
  %assign i i + 1
%endrep
%macro lbl 1
%1: db 0
%endmacro
lbl foo
lbl .bar
dw foo, foo.bar
`,
  'tutorial boot sector to protected mode': `
[org 0x7c00]
KERNEL_OFFSET equ 0x1000
[bits 16]
    mov [BOOT_DRIVE], dl
    mov bp, 0x9000
    mov sp, bp
    mov bx, MSG_REAL_MODE
    call print_string
    call switch_to_pm
    jmp $
print_string:
    pusha
    mov ah, 0x0e
.loop:
    mov al, [bx]
    cmp al, 0
    je .done
    int 0x10
    inc bx
    jmp .loop
.done:
    popa
    ret
gdt_start:
gdt_null: dd 0x0
    dd 0x0
gdt_code: dw 0xffff
    dw 0x0
    db 0x0
    db 10011010b
    db 11001111b
    db 0x0
gdt_data:
    dq 0x00CF92000000FFFF
gdt_end:
gdt_descriptor:
    dw gdt_end - gdt_start - 1
    dd gdt_start
CODE_SEG equ gdt_code - gdt_start
DATA_SEG equ gdt_data - gdt_start
switch_to_pm:
    cli
    lgdt [gdt_descriptor]
    mov eax, cr0
    or eax, 0x1
    mov cr0, eax
    jmp CODE_SEG:init_pm
[bits 32]
init_pm:
    mov ax, DATA_SEG
    mov ds, ax
    mov ss, ax
    mov es, ax
    mov ebp, 0x90000
    mov esp, ebp
    mov byte [0xb8000], 'A'
    mov word [0xb8002], 0x0f42
    mov dword [ebx], 0
    mov [0xb8004], word 0x0f43
    call KERNEL_OFFSET
    jmp dword CODE_SEG:init_pm
    jmp $
BOOT_DRIVE db 0
MSG_REAL_MODE db "Started in 16-bit Real Mode", 0
times 510-($-$$) db 0
dw 0xaa55
`,
  'context stack: %push/%pop/%repl, %$ labels, %ifctx, %-1': `
%macro IF 1
  %push if
  j%-1 %$ifnot
%endmacro
%macro ELSE 0
  %ifctx if
    %repl else
    jmp %$ifend
    %$ifnot:
  %else
    %error "expected IF before ELSE"
  %endif
%endmacro
%macro ENDIF 0
  %ifctx if
    %$ifnot:
    %pop
  %elifctx else
    %$ifend:
    %pop
  %else
    %error "expected IF before ENDIF"
  %endif
%endmacro
%macro REPEAT 0
  %push repeat
  %$begin:
%endmacro
%macro UNTIL 1
  j%-1 %$begin
  %pop
%endmacro
    cmp ax, bx
    IF e
      mov cx, 1
    ELSE
      mov cx, 2
    ENDIF
    REPEAT
      dec cx
    UNTIL z
`,
  'include and incbin': `
%include "defs.inc"
db DEF_A
incbin "data.bin"
incbin "data.bin", 2
incbin "data.bin", 1, 2
db 0xff`,
  'bits forms and orphan labels': `
[bits 32]
mov eax, 1
[bits 16]
mov ax, 1
use32
inc eax
use16
inc ax
bits 32
lone
after: ret`,
  'struc and absolute': `
struc point
  .x: resd 1
  .y: resd 1
endstruc
mov eax, [ebx + point.y]
mov ecx, point_size
dd point.x, point.y, point_size
struc pt
.x: resd 1
.y: resw 1
.z: resb 1
endstruc
istruc pt
at pt.x, dd 1
at pt.z, db 3
iend
istruc pt
at pt.y, dw 2
iend
db 0xff`,
  'misc instructions': `
bits 32
nop
hlt
int 0x80
int3
into
cpuid
rdtsc
wbinvd
invlpg [eax]
lgdt [gdtr]
lidt [eax]
ltr ax
sgdt [ebx]
xchg eax, ebx
xchg ebx, eax
xchg ax, bx
test al, 1
test eax, 0x100
test [ebx], ecx
in al, 0x60
out 0x80, al
in eax, dx
out dx, ax
bswap ecx
movzx eax, byte [ebx]
movsx ecx, word [esi]
movzx ax, bl
setz al
cmove_not_here: db 0
enter 16, 0
leave
pushad
popad
pushfd
popfd
cwde
cdq
aam
aad 16
xlatb
gdtr: dw 0
dd 0`,
};

const FILES: Record<string, string | Uint8Array> = {
  'defs.inc': 'DEF_A equ 0x41\n%define DEF_B 2\n',
  'data.bin': new Uint8Array([1, 2, 3, 4, 5]),
};

const provider = {
  read: (p: string) => FILES[p],
};

describe.concurrent('directives and preprocessor vs nasm', () => {
  for (const [name, source] of Object.entries(PROGRAMS)) {
    it(name, () => {
      const nasm = runNasm(source, FILES, ['-w-all']);
      expect(nasm.stderr).toBe('');
      const ours = assemble(source, { fileName: 'in.asm', provider });
      expect(ours.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
      expect(firstMismatch(ours, nasm.bytes, source)).toBeNull();
      expect(ours.bytes.length).toBe(nasm.bytes.length);
    });
  }
});
