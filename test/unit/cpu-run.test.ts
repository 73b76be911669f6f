// The run loop's contract: exact instruction budgets (REP = one iteration per step, as QEMU logs),
// hooks, requestStop from a port handler, HLT and interrupt delivery with the STI shadow,
// snapshots that replay identically, the compiled-block path agreeing with the interpreter,
// virtual TSC, CPUID, real-mode IVT delivery and the x87 escapes of an FPU-less 486.
import { describe, expect, it } from 'vitest';
import { PM_PRELUDE, assemble, flat32, makeCpu, run32 } from './cpu-harness.ts';
import type { InterruptController } from '../../src/machine/bus.ts';

function load(src: string) {
  const h = makeCpu();
  h.memory.writeBytes(0x10000, assemble(src + '\nhlt\n'));
  flat32(h.cpu, h.memory);
  return h;
}

class FakePic implements InterruptController {
  pending = -1;
  acks = 0;
  hasInterrupt(): boolean {
    return this.pending >= 0;
  }
  acknowledge(): number {
    const v = this.pending;
    this.pending = -1;
    this.acks++;
    return v;
  }
}

describe('run() budgets and single-stepping', () => {
  it('run(1) executes exactly one instruction; REP MOVSB is one iteration per step', () => {
    const { cpu } = load(`
      mov esi, 0x40000
      mov edi, 0x50000
      mov ecx, 3
      rep movsb
      nop
    `);
    for (let i = 0; i < 3; i++) expect(cpu.run(1)).toBe('budget');
    expect(cpu.instructions).toBe(3);
    const repEip = cpu.getState().eip;
    cpu.run(1);
    expect(cpu.getState().ecx).toBe(2);
    expect(cpu.getState().eip).toBe(repEip);
    cpu.run(1);
    cpu.run(1);
    expect(cpu.getState().ecx).toBe(0);
    expect(cpu.getState().eip).toBe(repEip + 2);
    expect(cpu.instructions).toBe(6);
  });
  it('a hook sees every instruction before it runs and can stop before it', () => {
    const { cpu } = load(`
      mov eax, 1
      mov ebx, 2
      mov ecx, 3
    `);
    const seen: number[] = [];
    cpu.hooks = {
      beforeInstruction: (c) => {
        seen.push(c.getState().eip);
        return seen.length === 3;
      },
    };
    expect(cpu.run(100)).toBe('stop');
    expect(seen).toEqual([0x10000, 0x10005, 0x1000a]);
    expect(cpu.getState().ebx).toBe(2);
    expect(cpu.getState().ecx).toBe(0);
    expect(cpu.instructions).toBe(2);
  });
  it('requestStop() from a port write ends run() right after the OUT', () => {
    const { cpu, io } = load(`
      mov al, 1
      out 0xf4, al
      mov ebx, 7
    `);
    io.onWrite = () => cpu.requestStop();
    expect(cpu.run(100)).toBe('stop');
    expect(cpu.instructions).toBe(2);
    expect(cpu.getState().ebx).toBe(0);
  });
});

describe('HLT and interrupts', () => {
  it('HLT returns halt until the PIC has an interrupt; STI shadow delays it by one instruction', () => {
    const h = makeCpu();
    const pic = new FakePic();
    h.cpu.pic = pic;
    h.memory.writeBytes(
      0x10000,
      assemble(`${PM_PRELUDE}
      GATE 0x20, irq, 0x8E
      mov dword [0x40000], 0
      hlt                 ; IF=0: stays halted
      sti
      mov dword [0x40004], 1   ; runs inside the shadow, before the interrupt
      mov dword [0x40008], 2
    h2:
      hlt
      jmp h2
    irq:
      mov eax, [esp]
      mov [0x4000c], eax
      inc dword [0x40000]
      iretd
    `),
    );
    flat32(h.cpu, h.memory);
    expect(h.cpu.run(1000)).toBe('halt');
    expect(h.cpu.run(1000)).toBe('halt');
    // Wake it artificially (as a debugger would) and let STI run with an interrupt pending.
    const st = h.cpu.getState();
    h.cpu.setState({ ...st, halted: false, eip: st.eip });
    pic.pending = 0x20;
    h.cpu.interruptCheck();
    h.cpu.run(3);
    expect(h.memory.read32(0x40004)).toBe(1);
    expect(h.memory.read32(0x40008)).toBe(0);
    h.cpu.run(100);
    expect(h.memory.read32(0x40000)).toBe(1);
    expect(h.memory.read32(0x40008)).toBe(2);
    expect(pic.acks).toBe(1);
    // The return address pushed by the interrupt is the instruction after the shadowed MOV.
    expect(h.memory.read32(0x4000c)).toBeGreaterThan(0x10000);
    expect(h.cpu.run(10)).toBe('halt');
    pic.pending = 0x20;
    expect(h.cpu.run(100)).toBe('halt');
    expect(h.memory.read32(0x40000)).toBe(2);
  });
  it('real mode: INT n goes through the IVT and IRET returns', () => {
    const h = makeCpu();
    h.memory.writeBytes(
      0x7c00,
      assemble(
        `
      xor ax, ax
      mov ds, ax
      mov ss, ax
      mov sp, 0x7000
      mov word [0x21 * 4], handler
      mov word [0x21 * 4 + 2], 0
      mov ax, 5
      int 0x21
      mov bx, ax
      hlt
    handler:
      add ax, 10
      iret
    `,
        16,
        0x7c00,
      ),
    );
    const st = h.cpu.getState();
    h.cpu.setState({ ...st, eip: 0x7c00, cs: { selector: 0, base: 0, limit: 0xffff, access: 0x9b } });
    expect(h.cpu.run(100)).toBe('halt');
    expect(h.cpu.getState().ebx & 0xffff).toBe(15);
  });
});

describe('determinism: snapshots and the compiled path', () => {
  const PROGRAM = `
      mov ecx, 3000
      xor eax, eax
      mov esi, 0x40000
    l:
      add eax, ecx
      xor eax, 0x5a5a5a5a
      mov [esi + ecx * 4], eax
      add eax, [esi + ecx * 4 - 4]
      imul eax, eax, 3
      shr eax, 1
      push eax
      pop edx
      dec ecx
      jnz l
      rdtsc
  `;
  it('snapshot, run, restore, run again: identical state and time', () => {
    const { cpu, memory } = load(PROGRAM);
    cpu.run(5000);
    const snap = cpu.saveSnapshot();
    const mem = memory.saveSnapshot();
    cpu.run(7777);
    const a = cpu.getState();
    const ia = cpu.instructions;
    memory.loadSnapshot(mem);
    cpu.loadSnapshot(snap);
    expect(cpu.instructions).toBe(5000);
    cpu.run(7777);
    expect(cpu.getState()).toEqual(a);
    expect(cpu.instructions).toBe(ia);
  });
  const BYTES_PROGRAM = `
      mov ecx, 2000
      mov esi, 0x40000
      xor ebx, ebx
    b:
      mov al, cl
      add al, 0x7f
      mov [esi + ecx], al
      sub bl, [esi + ecx]
      cmp bl, 0x80
      setb dh
      adc bh, dh
      xor byte [esi + 0x3000], cl
      test byte [esi + ecx], 1
      setnz dl
      movzx edi, byte [esi + ecx]
      movsx ebp, bl
      call f
      dec ecx
      jnz b
      jmp e
    f:
      add edi, ebp
      and edi, 0x7fff
      mov [esi + 0x4000 + edi], dl
      ret
    e:
  `;
  it('compiled blocks (no hooks) and the interpreter (hook attached) give the same result', () => {
    for (const program of [PROGRAM, BYTES_PROGRAM]) {
      const fast = load(program);
      const slow = load(program);
      slow.cpu.hooks = { beforeInstruction: () => false };
      expect(fast.cpu.run(1e6)).toBe('halt');
      expect(slow.cpu.run(1e6)).toBe('halt');
      expect(fast.cpu.getState()).toEqual(slow.cpu.getState());
      expect(fast.cpu.instructions).toBe(slow.cpu.instructions);
      expect(fast.memory.readBytes(0x40000, 0x10000)).toEqual(slow.memory.readBytes(0x40000, 0x10000));
    }
  });
  it('in hot (compiled) code a hook still sees every instruction, at the right EIP, and can stop', () => {
    const ref = load(PROGRAM);
    const eips: number[] = [];
    ref.cpu.hooks = { beforeInstruction: (c) => (eips.push(c.eip), false) };
    expect(ref.cpu.run(1e6)).toBe('halt');
    expect(eips.length).toBe(ref.cpu.instructions);
    const stepped = load(PROGRAM);
    const seen: number[] = [];
    while (stepped.cpu.run(1) === 'budget') seen.push(stepped.cpu.eip);
    expect(eips.slice(1, 2000)).toEqual(seen.slice(0, 1999));
    const stop = load(PROGRAM);
    let calls = 0;
    stop.cpu.hooks = { beforeInstruction: () => ++calls === 5000 };
    expect(stop.cpu.run(1e6)).toBe('stop');
    expect(stop.cpu.instructions).toBe(4999);
    expect(stop.cpu.eip).toBe(eips[4999]);
  });
  it('the same with the interpreter only reached through single steps', () => {
    const fast = load(PROGRAM);
    const slow = load(PROGRAM);
    expect(fast.cpu.run(1e6)).toBe('halt');
    let steps = 0;
    while (slow.cpu.run(1) === 'budget') steps++;
    expect(steps + 1).toBe(fast.cpu.instructions);
    expect(fast.cpu.getState()).toEqual(slow.cpu.getState());
    expect(fast.memory.readBytes(0x40000, 12004)).toEqual(slow.memory.readBytes(0x40000, 12004));
  });
  it('a page fault inside a hot (compiled) loop reports the same EIP and count as the interpreter', () => {
    const src = `${PM_PRELUDE}
      GATE 14, pf, 0x8E
      mov edi, 0x200000
      mov ecx, 2048
      xor eax, eax
      rep stosd
      mov edi, 0x201000
      mov eax, 3
    ident: stosd
      add eax, 4096
      cmp edi, 0x202000
      jb ident
      mov dword [0x201000 + 0x180 * 4], 0     ; 0x180000 not present
      mov dword [0x200000], 0x201003
      mov eax, 0x200000
      mov cr3, eax
      mov eax, cr0
      or eax, 0x80000000
      mov cr0, eax
      mov esi, 0x170000
    walk:
      mov eax, [esi]
      add esi, 64
      jmp walk
    pf:
      mov eax, [esp + 4]
      mov [0x40000], eax
      mov eax, cr2
      mov [0x40004], eax
      hlt
    `;
    const results = [false, true].map((hooked) => {
      const h = load(src);
      if (hooked) h.cpu.hooks = { beforeInstruction: () => false };
      expect(h.cpu.run(1e6)).toBe('halt');
      return {
        n: h.cpu.instructions,
        cr2: h.memory.read32(0x40004),
        ev: h.events.filter((e) => e.kind === 'pagefault'),
      };
    });
    expect(results[0]!.cr2).toBe(0x180000);
    expect(results[0]).toEqual(results[1]);
  });
});

describe('identification, time and the missing FPU', () => {
  it('CPUID reports a 486 with TSC and PSE and no FPU; RDTSC counts instructions', () => {
    const { state, cpu } = run32(`
      mov eax, 1
      cpuid
      mov esi, eax
      mov edi, edx
      rdtsc
    `);
    expect(state.esi).toBe(0x480);
    expect(state.edi & 0x19).toBe(0x18);
    expect(state.eax).toBe(4); // four instructions retired before RDTSC read the counter
    expect(cpu.instructions).toBe(6);
  });
  it('x87 opcodes: #NM with CR0.EM set, #UD with EM and TS clear', () => {
    for (const [cr0bits, vector] of [
      [4, 7],
      [0, 6],
    ] as const) {
      const { events } = run32(`
        mov eax, cr0
        or eax, ${cr0bits}
        mov cr0, eax
        fninit
      `);
      const exc = events.find((e) => e.kind === 'exception') as unknown as { vector: number };
      expect(exc.vector).toBe(vector);
    }
  });
});

describe('EFLAGS.TF', () => {
  it('raises a #DB trap after each instruction while TF is set, with DR6.BS', () => {
    const { memory } = run32(`${PM_PRELUDE}
      GATE 1, db, 0x8E
      mov dword [0x40000], 0
      pushfd
      or dword [esp], 0x100
      popfd                 ; TF takes effect after the next instruction
      nop
      nop
      pushfd
      and dword [esp], ~0x100
      popfd
      jmp done
    db:
      inc dword [0x40000]
      iretd
    done:
      mov eax, dr6
      mov [0x40004], eax
    `);
    // Traps after: nop, nop, pushfd, and, popfd (TF cleared by it, but it ran with TF set).
    expect(memory.read32(0x40000)).toBe(5);
    expect(memory.read32(0x40004) & 0x4000).toBe(0x4000);
  });
});
