// Paging: the two-level walk with 4 KiB and 4 MiB (PSE) pages, accessed/dirty bits written back,
// #PF error codes and CR2, CR0.WP, user/supervisor, INVLPG and CR3 reloads, side-effect-free peeks.
import { describe, expect, it } from 'vitest';
import { PM_PRELUDE, run32 } from './cpu-harness.ts';

// Page directory at 0x200000, page table 0 at 0x201000 identity-mapping 0..4 MiB (user, writable),
// except: 0x300000 not present, 0x301000 read-only, 0x302000 supervisor-only. PDE 1 (4..8 MiB)
// is a 4 MiB page mapped to physical 0 when PSE is on.
const SETUP = `${PM_PRELUDE}
    mov edi, 0x200000
    mov ecx, 2048
    xor eax, eax
    rep stosd
    mov edi, 0x201000
    mov eax, 7
  ident:
    stosd
    add eax, 4096
    cmp edi, 0x202000
    jb ident
    mov dword [0x201000 + 0x300 * 4], 0
    and dword [0x201000 + 0x301 * 4], ~2
    and dword [0x201000 + 0x302 * 4], ~4
    mov dword [0x200000], 0x201007
    mov eax, 0x200000
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
`;

const PF_HANDLER = `
pf:
    pop dword [0x40000]          ; error code
    mov eax, cr2
    mov [0x40004], eax
    inc dword [0x40008]          ; fault count
    mov eax, [esp]
    mov [0x4000c], eax           ; faulting EIP
    mov dword [esp], resume
    iretd
`;

describe('paging', () => {
  it('sets A on PDE and PTE when reading, D when writing', () => {
    const { memory } = run32(`${SETUP}
      mov eax, [0x123000]
      mov dword [0x124000], 5
    `);
    expect(memory.read32(0x200000) & 0x20).toBe(0x20);
    const pteRead = memory.read32(0x201000 + 0x123 * 4);
    const pteWrite = memory.read32(0x201000 + 0x124 * 4);
    expect(pteRead & 0x60).toBe(0x20);
    expect(pteWrite & 0x60).toBe(0x60);
  });
  it('#PF on a not-present page: error code 0/2, CR2 = the address, EIP = the faulting instruction', () => {
    const { memory, events } = run32(`${SETUP}
      GATE 14, pf, 0x8E
      mov dword [0x300010], 1
      jmp done
    ${PF_HANDLER}
    resume:
    done:
    `);
    expect(memory.read32(0x40000)).toBe(2);
    expect(memory.read32(0x40004)).toBe(0x300010);
    const pf = events.find((e) => e.kind === 'pagefault') as unknown as {
      linear: number;
      errorCode: number;
      eip: number;
      outcome: string;
    };
    expect(pf).toMatchObject({ linear: 0x300010, errorCode: 2, outcome: 'bare' });
    expect(memory.read32(0x4000c)).toBe(pf.eip);
  });
  it('CR0.WP: a supervisor write to a read-only page succeeds with WP=0 and faults (code 3) with WP=1', () => {
    const { memory } = run32(`${SETUP}
      GATE 14, pf, 0x8E
      mov dword [0x301000], 0x11      ; WP=0: allowed
      mov eax, cr0
      or eax, 0x10000
      mov cr0, eax
      mov dword [0x301004], 0x22      ; WP=1: #PF(3)
      jmp done
    ${PF_HANDLER}
    resume:
    done:
    `);
    expect(memory.read32(0x301000)).toBe(0x11);
    expect(memory.read32(0x301004)).toBe(0);
    expect(memory.read32(0x40000)).toBe(3);
    expect(memory.read32(0x40008)).toBe(1);
  });
  it('ring 3 touching a supervisor page faults with U/S set (code 5 read, 7 write)', () => {
    const { memory } = run32(`${SETUP}
      GATE 14, pf0, 0x8E
      push dword 0x23
      push dword 0x60000
      push dword 0x0002
      push dword 0x1b
      push dword user
      iretd
    user:
      mov ax, 0x23
      mov ds, ax
      mov eax, [0x302000]
      jmp $
    pf0:
      mov ax, 0x10
      mov ds, ax
      pop dword [0x40000]
      mov eax, cr2
      mov [0x40004], eax
      hlt
    `);
    expect(memory.read32(0x40000)).toBe(5);
    expect(memory.read32(0x40004)).toBe(0x302000);
  });
  it('4 MiB pages with CR4.PSE set A and D in the PDE', () => {
    const { memory } = run32(`${SETUP}
      mov dword [0x200004], 0x00000087   ; PDE 1: 4 MiB page at physical 0, user, writable
      mov eax, cr4
      or eax, 0x10
      mov cr4, eax
      mov dword [0x50000], 0xabcd
      mov eax, [0x400000 + 0x50000]      ; the same physical memory through the big page
      mov [0x40010], eax
      mov dword [0x400000 + 0x50004], 0x77
    `);
    expect(memory.read32(0x40010)).toBe(0xabcd);
    expect(memory.read32(0x50004)).toBe(0x77);
    expect(memory.read32(0x200004) & 0x60).toBe(0x60);
  });
  it('the TLB keeps a stale translation until INVLPG (or a CR3 reload)', () => {
    const { memory } = run32(`${SETUP}
      mov dword [0x150000], 0x1111
      mov dword [0x160000], 0x2222
      mov eax, [0x150000]                ; fills the TLB entry
      mov dword [0x201000 + 0x150 * 4], 0x160007   ; remap 0x150000 -> 0x160000
      mov eax, [0x150000]
      mov [0x40000], eax                 ; stale: 0x1111
      invlpg [0x150000]
      mov eax, [0x150000]
      mov [0x40004], eax                 ; fresh: 0x2222
      mov dword [0x201000 + 0x150 * 4], 0x150007
      mov eax, cr3
      mov cr3, eax
      mov eax, [0x150000]
      mov [0x40008], eax                 ; after the CR3 reload: 0x1111
    `);
    expect(memory.read32(0x40000)).toBe(0x1111);
    expect(memory.read32(0x40004)).toBe(0x2222);
    expect(memory.read32(0x40008)).toBe(0x1111);
  });
  it('peekLinear reads through the page tables without setting A bits and returns null when unmapped', () => {
    const { cpu, memory } = run32(`${SETUP}`);
    memory.write32(0x1a0000, 0xdeadbeef);
    const pte = memory.read32(0x201000 + 0x1a0 * 4);
    expect(pte & 0x20).toBe(0);
    expect(Array.from(cpu.peekLinear(0x1a0000, 4)!)).toEqual([0xef, 0xbe, 0xad, 0xde]);
    expect(memory.read32(0x201000 + 0x1a0 * 4)).toBe(pte);
    expect(cpu.peekLinear(0x300000, 4)).toBeNull();
  });
});
