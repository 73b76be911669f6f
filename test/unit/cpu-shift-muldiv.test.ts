// Shifts, rotates, double shifts, multiply/divide (with #DE), BCD, bit operations, exchange and
// extension instructions: expected values worked out by hand from the SDM's pseudo-code.
import { describe, expect, it } from 'vitest';
import { run32 } from './cpu-harness.ts';

const CF = 1,
  ZF = 0x40,
  SF = 0x80,
  OF = 0x800;

describe('shifts and rotates', () => {
  it('SHL/SHR/SAR by 1: CF = bit shifted out, OF per the SDM', () => {
    const { state } = run32(`
      mov eax, 0x80000001
      shl eax, 1          ; 2, CF=1, OF = MSB(r)^CF = 1
      pushfd
      pop ebx
      mov ecx, 0x80000001
      shr ecx, 1          ; 0x40000000, CF=1, OF = old MSB = 1
      pushfd
      pop edx
      mov esi, 0x80000001
      sar esi, 1          ; 0xc0000000, CF=1, OF=0
      pushfd
      pop edi
    `);
    expect(state.eax).toBe(2);
    expect(state.ebx & (CF | OF | ZF)).toBe(CF | OF);
    expect(state.ecx).toBe(0x40000000);
    expect(state.edx & (CF | OF)).toBe(CF | OF);
    expect(state.esi).toBe(0xc0000000);
    expect(state.edi & (CF | OF | SF)).toBe(CF | SF);
  });
  it('counts are masked to 5 bits; a zero count leaves flags alone', () => {
    const { state } = run32(`
      mov eax, 1
      mov cl, 33
      shl eax, cl          ; count 1
      stc
      mov ebx, 5
      mov cl, 32
      shl ebx, cl          ; count 0: no change, CF stays 1
      setc dl
    `);
    expect(state.eax).toBe(2);
    expect(state.ebx).toBe(5);
    expect(state.edx & 0xff).toBe(1);
  });
  it('ROL/ROR/RCL/RCR', () => {
    const { state } = run32(`
      mov eax, 0x80000001
      rol eax, 4           ; 0x00000018
      mov ebx, 0x80000001
      ror ebx, 4           ; 0x18000000
      stc
      mov ecx, 0x80000000
      rcl ecx, 1           ; 1, CF=1
      setc dl
      clc
      mov esi, 1
      rcr esi, 1           ; 0, CF=1
      setc dh
      mov edi, 0x81
      stc
      rcl di, 17           ; 17 mod 17 = 0 for 16-bit: unchanged
    `);
    expect(state.eax).toBe(0x18);
    expect(state.ebx).toBe(0x18000000);
    expect(state.ecx).toBe(1);
    expect(state.edx & 0xffff).toBe(0x0101);
    expect(state.esi).toBe(0);
    expect(state.edi).toBe(0x81);
  });
  it('SHLD/SHRD', () => {
    const { state } = run32(`
      mov eax, 0x12345678
      mov ebx, 0x9abcdef0
      shld eax, ebx, 8     ; 0x3456789a
      mov ecx, 0x12345678
      mov cl, 8
      mov edx, 0x12345678
      shrd edx, ebx, cl    ; 0xf0123456
    `);
    expect(state.eax).toBe(0x3456789a);
    expect(state.edx).toBe(0xf0123456);
  });
});

describe('multiply and divide', () => {
  it('MUL/IMUL widths and CF/OF', () => {
    const { state, memory } = run32(`
      mov eax, 0xffffffff
      mov ebx, 0xffffffff
      mul ebx              ; 0xfffffffe_00000001
      mov [0x40000], eax
      mov [0x40004], edx
      pushfd
      pop dword [0x40008]
      mov eax, -3
      mov ecx, 7
      imul ecx             ; -21: EDX = -1, CF=OF=0
      mov [0x4000c], eax
      mov [0x40010], edx
      pushfd
      pop dword [0x40014]
      mov al, 16
      mov bl, 16
      mul bl               ; AX = 256, CF=OF=1
      mov [0x40018], eax
      mov esi, 0x10000
      imul esi, esi, 0x10000   ; overflow: low 0, CF=OF=1
      pushfd
      pop dword [0x4001c]
      mov edi, -5
      imul edi, edi        ; 25
    `);
    expect(memory.read32(0x40000)).toBe(1);
    expect(memory.read32(0x40004)).toBe(0xfffffffe);
    expect(memory.read32(0x40008) & (CF | OF)).toBe(CF | OF);
    expect(memory.read32(0x4000c)).toBe(0xffffffeb);
    expect(memory.read32(0x40010)).toBe(0xffffffff);
    expect(memory.read32(0x40014) & (CF | OF)).toBe(0);
    expect(memory.read32(0x40018) & 0xffff).toBe(256);
    expect(state.esi).toBe(0);
    expect(memory.read32(0x4001c) & (CF | OF)).toBe(CF | OF);
    expect(state.edi).toBe(25);
  });
  it('DIV/IDIV quotient and remainder, signs truncate toward zero', () => {
    const { state } = run32(`
      mov edx, 1
      mov eax, 0
      mov ebx, 3
      div ebx              ; 0x100000000 / 3 = 0x55555555 r 1
      mov esi, eax
      mov edi, edx
      mov eax, -7
      cdq
      mov ecx, 2
      idiv ecx             ; -3 r -1
    `);
    expect(state.esi).toBe(0x55555555);
    expect(state.edi).toBe(1);
    expect(state.eax).toBe(0xfffffffd);
    expect(state.edx).toBe(0xffffffff);
  });
  it('divide by zero and quotient overflow raise #DE (vector 0) at the DIV', () => {
    for (const body of [
      'xor ebx, ebx\n div ebx',
      'mov edx, 5\n mov ebx, 2\n div ebx',
      'mov ax, 0x8000\n mov bl, 0xff\n idiv bl',
    ]) {
      const { events } = run32(`${body}\n`, 100, (cpu, memory) => {
        // IDT with no entries: #DE -> #GP (limit) -> #DF -> triple fault; the first event is what we check.
        void cpu;
        void memory;
      });
      const exc = events.find((e) => e.kind === 'exception');
      expect(exc && exc.kind === 'exception' && exc.vector).toBe(0);
      expect(exc && exc.kind === 'exception' && exc.eip).toBeGreaterThan(0x10000);
    }
  });
});

describe('BCD, bit operations, exchange, extension', () => {
  it('DAA/DAS/AAA/AAS/AAM/AAD (SDM examples)', () => {
    const { memory } = run32(`
      mov al, 0x79
      add al, 0x35         ; 0xae
      daa                  ; 0x14, CF=1
      pushfd
      mov [0x40000], al
      pop dword [0x40004]
      mov al, 0x35
      sub al, 0x47         ; 0xee
      das                  ; 0x88, CF=1
      mov [0x40008], al
      mov ax, 0x0008
      add al, 0x06         ; 0x0e
      aaa                  ; AX = 0x0104
      mov [0x4000c], ax
      mov ax, 0x0102
      sub al, 0x05
      aas                  ; AX = 0x0007
      mov [0x40010], ax
      mov al, 63
      aam                  ; AH=6 AL=3
      mov [0x40014], ax
      mov ax, 0x0603
      aad                  ; AL=63 AH=0
      mov [0x40018], ax
    `);
    expect(memory.read8(0x40000)).toBe(0x14);
    expect(memory.read32(0x40004) & CF).toBe(CF);
    expect(memory.read8(0x40008)).toBe(0x88);
    expect(memory.read16(0x4000c)).toBe(0x0104);
    expect(memory.read16(0x40010)).toBe(0x0007);
    expect(memory.read16(0x40014)).toBe(0x0603);
    expect(memory.read16(0x40018)).toBe(63);
  });
  it('BT/BTS/BTR/BTC with register offsets reaching past the operand, BSF/BSR', () => {
    const { state, memory } = run32(`
      mov dword [0x40000], 0
      mov dword [0x40004], 0
      mov eax, 35
      bts [0x40000], eax   ; sets bit 3 of the next dword
      setc bl
      bt dword [0x40004], 3
      setc bh
      mov ecx, 0x00f0
      bsf edx, ecx         ; 4
      bsr esi, ecx         ; 7
      xor edi, edi
      mov edi, 0x1234
      bsf edi, edi
    `);
    expect(memory.read32(0x40004)).toBe(8);
    expect(state.ebx & 0xffff).toBe(0x0100);
    expect(state.edx).toBe(4);
    expect(state.esi).toBe(7);
    expect(state.edi).toBe(2);
  });
  it('XADD, CMPXCHG, BSWAP, MOVZX/MOVSX, CBW/CWDE/CWD/CDQ, SETcc, XCHG, XLAT', () => {
    const { state, memory } = run32(`
      mov eax, 5
      mov ebx, 7
      xadd eax, ebx        ; eax=12 ebx=5
      mov dword [0x40000], 9
      mov eax, 9
      mov ecx, 0x55
      cmpxchg [0x40000], ecx   ; equal: [m]=0x55, ZF=1
      setz dl
      mov eax, 1
      cmpxchg [0x40000], ecx   ; not equal: eax=0x55
      mov esi, 0x11223344
      bswap esi
      mov byte [0x40010], 0x80
      movsx edi, byte [0x40010]
      movzx ebp, byte [0x40010]
    `);
    expect(state.ebx).toBe(5);
    expect(memory.read32(0x40000)).toBe(0x55);
    expect(state.edx & 0xff).toBe(1);
    expect(state.eax).toBe(0x55);
    expect(state.esi).toBe(0x44332211);
    expect(state.edi).toBe(0xffffff80);
    expect(state.ebp).toBe(0x80);
    const r2 = run32(`
      mov byte [0x40020], 0xaa
      mov byte [0x40021], 0xbb
      mov eax, 0x80
      cbw
      mov ebx, eax
      mov eax, 0x8000
      cwde
      cdq
      mov ecx, 0x40020
      mov ebx, ecx
      mov al, 1
      xlatb
      xchg eax, ecx
    `);
    expect(r2.state.edx).toBe(0xffffffff);
    expect(r2.state.ecx & 0xff).toBe(0xbb);
    expect(r2.state.eax).toBe(0x40020);
  });
});
