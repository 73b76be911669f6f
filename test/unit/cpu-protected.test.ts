// Protected mode: exceptions with their error codes and faulting EIPs, ring changes through the
// TSS (INT from ring 3, IRET to ring 3), IOPL, call gates, double and triple faults, #UD warnings.
import { describe, expect, it } from 'vitest';
import { PM_PRELUDE, run32 } from './cpu-harness.ts';

/** A handler that stores vector, error code and faulting EIP, then resumes at `resume`. */
const RECORDER = `
rec_err:                     ; [esp]=error code, [esp+4]=eip
    pop dword [0x40004]
    mov eax, [esp]
    mov [0x40008], eax
    mov dword [esp], resume
    iretd
`;

function excEvents(events: { kind: string }[]) {
  return events.filter((e) => e.kind === 'exception') as unknown as {
    vector: number;
    errorCode?: number;
    eip: number;
  }[];
}

describe('exceptions with error codes', () => {
  it('#GP(selector) for a selector beyond the GDT limit; EIP is the faulting MOV', () => {
    const { memory, events, state } = run32(`${PM_PRELUDE}
      GATE 13, rec_err, 0x8E
      mov ax, 0x78
    fault:
      mov ds, ax
      jmp done
    ${RECORDER}
    resume:
      mov dword [0x4000c], 1
    done:
    `);
    expect(memory.read32(0x40004)).toBe(0x78);
    const exc = excEvents(events);
    expect(exc[0]).toMatchObject({ vector: 13, errorCode: 0x78 });
    expect(memory.read32(0x40008)).toBe(exc[0]!.eip);
    expect(memory.read32(0x4000c)).toBe(1);
    expect(state.ds.selector).toBe(0x10);
  });
  it('#NP(selector) for a not-present data segment, #SS(selector) for a not-present stack segment', () => {
    const { memory } = run32(`${PM_PRELUDE}
      GATE 11, np, 0x8E
      GATE 12, ss_, 0x8E
      mov dword [0x800 + 0x38], 0x0000ffff
      mov dword [0x800 + 0x3c], 0x00cf1200   ; data, not present
      lgdt [gdtr]
      mov ax, 0x38
      mov es, ax
    after_np:
      mov ax, 0x38
      mov ss, ax
    after_ss:
      jmp done
    np: pop dword [0x40000]
      mov dword [esp], after_np
      iretd
    ss_: pop dword [0x40004]
      mov dword [esp], after_ss
      iretd
    gdtr: dw 0x3f
      dd 0x800
    done:
    `);
    expect(memory.read32(0x40000)).toBe(0x38);
    expect(memory.read32(0x40004)).toBe(0x38);
  });
  it('#PF-less #UD for an unknown opcode emits a warning naming the bytes', () => {
    const { events } = run32(`${PM_PRELUDE}
      GATE 6, ud, 0x8E
      db 0x0f, 0xff
    ud:
    `);
    const w = events.find((e) => e.kind === 'warning') as unknown as { bytes: number[]; message: string };
    expect(w.bytes).toEqual([0x0f, 0xff]);
    expect(w.message).toMatch(/0f ff/);
    expect(excEvents(events)[0]!.vector).toBe(6);
  });
  it('double fault: #GP whose gate is not present becomes #DF(0)', () => {
    const { memory, events } = run32(`${PM_PRELUDE}
      GATE 8, df, 0x8E
      GATE 13, df, 0x0E            ; not present: delivering #GP raises #NP -> #DF
      mov ax, 0x78
      mov ds, ax
      jmp done
    df: pop dword [0x40000]
      mov dword [0x40004], 8
      hlt
    done:
    `);
    expect(memory.read32(0x40004)).toBe(8);
    expect(memory.read32(0x40000)).toBe(0);
    expect(excEvents(events).map((e) => e.vector)).toEqual([13, 11, 8]);
  });
  it('triple fault: no usable IDT -> run() returns shutdown and a shutdown event is emitted', () => {
    const { reason, events, cpu } = run32(`
      lidt [idtr]
      mov ax, 0x78
      mov ds, ax
      jmp $
    idtr: dw 0
      dd 0
    `);
    expect(reason).toBe('shutdown');
    expect(events.some((e) => e.kind === 'shutdown')).toBe(true);
    expect(cpu.run(10)).toBe('shutdown');
  });
});

describe('privilege changes through the TSS', () => {
  it('IRET to ring 3, INT 0x80 back to ring 0 on SS0:ESP0, IRET returns to ring 3', () => {
    const { memory, state } = run32(
      `${PM_PRELUDE}
      GATE 0x80, sys, 0xEE
      push dword 0x23          ; SS
      push dword 0x60000       ; ESP
      push dword 0x3202        ; EFLAGS: IF, IOPL 3
      push dword 0x1b          ; CS
      push dword user
      iretd
    user:
      mov ax, 0x23
      mov ds, ax
      mov eax, cs
      mov [0x40000], eax
      mov ebx, 0x1234
      int 0x80
      mov [0x40014], esp
      mov eax, ss
      mov [0x40018], eax
      int 0x81                 ; gate 0x81 absent (limit ok, type 0): #GP -> recorder in ring 0
    sys:
      mov [0x40004], esp       ; ring-0 stack after the switch
      mov eax, [esp + 4]
      mov [0x40008], eax       ; pushed CS
      mov eax, [esp + 12]
      mov [0x4000c], eax       ; pushed ESP
      mov eax, [esp + 16]
      mov [0x40010], eax       ; pushed SS
      iretd
    `,
      10000,
    );
    expect(memory.read32(0x40000)).toBe(0x1b);
    expect(memory.read32(0x40004)).toBe(0x70000 - 20);
    expect(memory.read32(0x40008)).toBe(0x1b);
    expect(memory.read32(0x4000c)).toBe(0x60000);
    expect(memory.read32(0x40010)).toBe(0x23);
    expect(memory.read32(0x40014)).toBe(0x60000);
    expect(memory.read32(0x40018)).toBe(0x23);
    void state;
  });
  it('CLI in ring 3 with IOPL 0 raises #GP(0); a null SS0 in the TSS gives #TS(EXT), #DF, shutdown', () => {
    const { memory, events, reason } = run32(
      `${PM_PRELUDE}
      GATE 13, gp, 0x8E
      GATE 10, gp, 0x8E
      GATE 8, gp, 0x8E
      push dword 0x23
      push dword 0x60000
      push dword 0x0002        ; IOPL 0
      push dword 0x1b
      push dword user
      iretd
    user:
      cli
      jmp $
    gp:
      mov ax, 0x10
      mov ds, ax
      pop dword [0x40000]      ; error code 0
      mov dword [0x40004], 1
      mov dword [0x908], 0     ; SS0 = null: the next ring change fails
      mov dword [esp], user2
      iretd
    user2:
      cli                      ; #GP -> needs SS0 -> #TS(1) -> #DF -> #TS again: shutdown
      jmp $
    `,
      10000,
    );
    expect(memory.read32(0x40004)).toBe(1);
    expect(memory.read32(0x40000)).toBe(0);
    const exc = excEvents(events);
    expect(exc.map((e) => e.vector)).toEqual([13, 13, 10, 8]);
    expect(exc[2]!.errorCode).toBe(1);
    expect(reason).toBe('shutdown');
  });
  it('a call gate from ring 3 to ring 0 copies parameters and RETF returns to ring 3', () => {
    const { memory } = run32(
      `${PM_PRELUDE}
      ; call gate at GDT 0x40: target 0x08:gate_target, 2 dword params, DPL 3
      mov eax, gate_target
      mov word [0x800 + 0x40], ax
      mov word [0x800 + 0x42], 0x08
      mov byte [0x800 + 0x44], 2
      mov byte [0x800 + 0x45], 0xEC
      shr eax, 16
      mov word [0x800 + 0x46], ax
      lgdt [gdtr]
      push dword 0x23
      push dword 0x60000
      push dword 0x0002
      push dword 0x1b
      push dword user
      iretd
    user:
      mov ax, 0x23
      mov ds, ax
      push dword 0x1111
      push dword 0x2222
      call 0x43:0
      mov [0x40010], esp
      mov eax, cs
      mov [0x40014], eax
      jmp $
    gate_target:
      mov eax, cs
      mov [0x40000], eax
      mov eax, [esp + 8]
      mov [0x40004], eax     ; param 2 (pushed last) ...
      mov eax, [esp + 12]
      mov [0x40008], eax
      retf 8
    gdtr: dw 0x47
      dd 0x800
    `,
      5000,
    );
    expect(memory.read32(0x40000)).toBe(0x08);
    expect(memory.read32(0x40004)).toBe(0x2222);
    expect(memory.read32(0x40008)).toBe(0x1111);
    expect(memory.read32(0x40010)).toBe(0x60000);
    expect(memory.read32(0x40014)).toBe(0x1b);
  });
});

describe('hardware task switches', () => {
  const TSS_B = `
      ; TSS B at 0xA00, descriptor 0x40 (available 32-bit TSS)
      mov dword [0x800 + 0x40], (0xA00 << 16) | 0x67
      mov dword [0x800 + 0x44], 0x00008900
      mov dword [0xA00 + 0x20], task_b       ; EIP
      mov dword [0xA00 + 0x24], 2            ; EFLAGS
      mov dword [0xA00 + 0x38], 0x68000      ; ESP
      mov word [0xA00 + 0x48], 0x10          ; ES
      mov word [0xA00 + 0x4c], 0x08          ; CS
      mov word [0xA00 + 0x50], 0x10          ; SS
      mov word [0xA00 + 0x54], 0x10          ; DS
      mov word [0xA00 + 0x58], 0x10          ; FS
      mov word [0xA00 + 0x5c], 0x10          ; GS
      lgdt [gdtr]
  `;
  it('CALL to a TSS runs the other task; its IRET (NT) returns with the caller state intact', () => {
    const { memory, state } = run32(
      `${PM_PRELUDE}
      ${TSS_B}
      mov ebx, 0x1234
      call 0x40:0
      mov [0x40008], ebx
      str ax
      mov [0x4000c], eax
      call 0x40:0
      jmp done
    task_b:
      inc dword [0x40004]
      mov ebx, 0x9999
      str ax
      mov [0x40010], eax
      iretd
      jmp task_b
    gdtr: dw 0x47
      dd 0x800
    done:
    `,
      10000,
    );
    expect(memory.read32(0x40004)).toBe(2);
    expect(memory.read32(0x40008)).toBe(0x1234);
    expect(memory.read32(0x4000c) & 0xffff).toBe(0x28);
    expect(memory.read32(0x40010) & 0xffff).toBe(0x40);
    expect(memory.read8(0x800 + 0x45) & 2).toBe(0); // B no longer busy
    expect(memory.read16(0xa00)).toBe(0x28); // back link
    expect(state.tr.selector).toBe(0x28);
  });
  it('a double fault through a task gate runs on a fresh stack with error code 0', () => {
    const { memory } = run32(
      `${PM_PRELUDE}
      ${TSS_B}
      mov dword [0x1000 + 8 * 8], 0x00400000       ; task gate -> TSS 0x40
      mov dword [0x1000 + 8 * 8 + 4], 0x00008500
      GATE 13, 0, 0x0E                             ; #GP gate not present -> #NP -> #DF
      mov ax, 0x78
      mov ds, ax
      jmp $
    task_b:
      mov eax, [esp]
      mov [0x40000], eax
      mov [0x40004], esp
      mov eax, [0x900 + 0x20]
      mov [0x40008], eax                            ; the faulting EIP saved in the old TSS
      hlt
    gdtr: dw 0x47
      dd 0x800
    `,
      10000,
    );
    expect(memory.read32(0x40000)).toBe(0);
    expect(memory.read32(0x40004)).toBe(0x68000 - 4);
    expect(memory.read32(0x40008)).toBeGreaterThan(0x10000);
  });
});
