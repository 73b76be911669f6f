// The CPU's hooked path as the debugger uses it: cpu.instructions exact at every beforeInstruction
// (inside blocks and compiled hot blocks), one REP iteration per hook call whatever the budget, and
// hooks.memoryAccess reporting every data access (loads, stores, pushes/pops, string ops,
// interrupt frames, page-crossing halves) without changing what the machine does or emits.
import { describe, expect, it } from 'vitest';
import { PM_PRELUDE, assemble, flat32, makeCpu } from './cpu-harness.ts';

function load(src: string) {
  const h = makeCpu();
  h.memory.writeBytes(0x10000, assemble(src + '\nhlt\n'));
  flat32(h.cpu, h.memory);
  return h;
}

/** A hot loop (compiled blocks) with loads, stores, a call and a REP MOVSB. */
const LOOP = `
    mov ecx, 300
    mov ebx, 0x40000
top:
    mov eax, [ebx]
    add eax, ecx
    mov [ebx + 4], eax
    push ecx
    call f
    pop ecx
    dec ecx
    jnz top
    mov esi, 0x40000
    mov edi, 0x48000
    mov ecx, 7
    rep movsb
    jmp done
f:  inc dword [0x40010]
    ret
done:
`;

describe('hooked path: exact instruction counts', () => {
  it('beforeInstruction sees the count a run(1) single-stepper sees, at every instruction', () => {
    const stepped = load(LOOP);
    const expected: string[] = [];
    for (;;) {
      expected.push(`${stepped.cpu.instructions}@${stepped.cpu.eip.toString(16)}`);
      if (stepped.cpu.run(1) !== 'budget') break;
    }
    const hooked = load(LOOP);
    const seen: string[] = [];
    hooked.cpu.hooks = { beforeInstruction: (c) => (seen.push(`${c.instructions}@${c.eip.toString(16)}`), false) };
    expect(hooked.cpu.run(1e6)).toBe('halt');
    expect(seen.length).toBeGreaterThan(3000);
    expect(seen).toEqual(expected);
    expect(hooked.cpu.getState()).toEqual(stepped.cpu.getState());
  });
  it('REP runs one iteration per hook call with a large budget; a stop mid-REP leaves the rest', () => {
    const h = load(`mov esi, 0x40000\nmov edi, 0x48000\nmov ecx, 5\nrep movsb\nnop`);
    const atRep: number[] = [];
    h.cpu.hooks = {
      beforeInstruction: (c) => {
        if (c.eip === 0x1000f) atRep.push(c.regs[1]!);
        return atRep.length === 4;
      },
    };
    expect(h.cpu.run(1000)).toBe('stop');
    expect(atRep).toEqual([5, 4, 3, 2]);
    expect(h.cpu.instructions).toBe(6);
    expect(h.cpu.getState()).toMatchObject({ ecx: 2, esi: 0x40003, eip: 0x1000f });
  });
});

type Access = [n: number, lin: number, phys: number, size: number, kind: 'r' | 'w'];

function accesses(src: string, setup?: (h: ReturnType<typeof load>) => void): { list: Access[]; h: ReturnType<typeof load> } {
  const h = load(src);
  setup?.(h);
  const list: Access[] = [];
  h.cpu.hooks = {
    beforeInstruction: () => false,
    memoryAccess: (lin, phys, size, write) => list.push([h.cpu.instructions, lin, phys, size, write ? 'w' : 'r']),
  };
  expect(h.cpu.run(1e6)).toBe('halt');
  return { list, h };
}

describe('hooked path: memoryAccess', () => {
  it('reports loads, stores, push/pop, REP MOVS iterations, read-modify-write and page-crossing halves', () => {
    const { list, h } = accesses(`
      mov dword [0x40000], 0x11223344
      mov eax, [0x40000]
      push eax
      pop ecx
      mov esi, 0x40000
      mov edi, 0x41000
      mov ecx, 2
      rep movsw
      add [0x40000], eax
      mov [0x41ffe], eax
      mov al, [0x41fff]
      mov edx, eax
    `);
    expect(h.cpu.reportsMemoryAccess).toBe(true);
    expect(list).toEqual([
      [0, 0x40000, 0x40000, 4, 'w'],
      [1, 0x40000, 0x40000, 4, 'r'],
      [2, 0x7fffc, 0x7fffc, 4, 'w'],
      [3, 0x7fffc, 0x7fffc, 4, 'r'],
      [7, 0x40000, 0x40000, 2, 'r'],
      [7, 0x41000, 0x41000, 2, 'w'],
      [8, 0x40002, 0x40002, 2, 'r'],
      [8, 0x41002, 0x41002, 2, 'w'],
      [9, 0x40000, 0x40000, 4, 'r'],
      [9, 0x40000, 0x40000, 4, 'w'],
      [10, 0x41ffe, 0x41ffe, 2, 'w'],
      [10, 0x42000, 0x42000, 2, 'w'],
      [11, 0x41fff, 0x41fff, 1, 'r'],
    ]);
    expect(h.memory.read32(0x40000)).toBe(0x22446688);
  });
  it('reports an INT frame (3 dwords) and the IRET that pops it; descriptor reads are not reported', () => {
    const { list } = accesses(`${PM_PRELUDE}
      GATE 0x40, handler, 0x8E
      mov esp, 0x80000
    site:
      int 0x40
      jmp out
    handler:
      iret
    out:
    `);
    const n = list.findIndex((a) => a[3] === 4 && a[4] === 'w' && a[1] === 0x7fffc);
    expect(n).toBeGreaterThanOrEqual(0);
    const frame = list.slice(n, n + 6).map(([, lin, , size, k]) => [lin, size, k]);
    expect(frame).toEqual([
      [0x7fffc, 4, 'w'], // EFLAGS
      [0x7fff8, 4, 'w'], // CS
      [0x7fff4, 4, 'w'], // EIP
      [0x7fff4, 4, 'r'], // IRET pops EIP, CS, EFLAGS
      [0x7fff8, 4, 'r'],
      [0x7fffc, 4, 'r'],
    ]);
    // no IDT (0x1000..) or GDT (0x800..) reads after the gate was written
    const after = list.slice(n);
    expect(after.filter(([, lin]) => (lin >= 0x1000 && lin < 0x1800) || (lin >= 0x800 && lin < 0x840))).toEqual([]);
  });
  it('under paging: physical addresses; same events, state and memory as the hook-free run', () => {
    const PAGING = `${PM_PRELUDE}
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
      mov dword [0x201000 + 0x300 * 4], 0x150003   ; linear 0x300000 -> physical 0x150000
      mov dword [0x201000 + 0x301 * 4], 0           ; 0x301000 not present: faults once
      mov dword [0x200000], 0x201003
      mov eax, 0x200000
      mov cr3, eax
      mov eax, cr0
      or eax, 0x80000000
      mov cr0, eax
      mov ecx, 200
    again:
      mov dword [0x300010], ecx
      mov eax, [0x300010]
      add [0x300ffe], eax
      loop again
      mov eax, [0x301004]
      jmp fin
    pf:
      mov dword [0x201000 + 0x301 * 4], 0x151003
      add esp, 4
      iret
    fin:
    `;
    const all: string[][] = [[], []];
    const listenAll = (k: number) => (x: ReturnType<typeof load>) => x.emitter.listen({ mask: -1, onEvent: (e) => all[k]!.push(JSON.stringify(e)) });
    const { list, h } = accesses(PAGING, listenAll(0));
    expect(list).toContainEqual([expect.any(Number), 0x300010, 0x150010, 4, 'w']);
    // a dword across the page end: read byte by byte, written in two halves
    expect(list).toContainEqual([expect.any(Number), 0x300fff, 0x150fff, 1, 'r']);
    expect(list).toContainEqual([expect.any(Number), 0x301001, 0x151001, 1, 'r']);
    expect(list).toContainEqual([expect.any(Number), 0x300ffe, 0x150ffe, 2, 'w']);
    expect(list).toContainEqual([expect.any(Number), 0x301000, 0x151000, 2, 'w']);
    expect(list.filter(([, lin]) => lin === 0x301004)).toEqual([[expect.any(Number), 0x301004, 0x151004, 4, 'r']]);
    const free = load(PAGING);
    listenAll(1)(free);
    expect(free.cpu.run(1e6)).toBe('halt');
    expect(h.cpu.getState()).toEqual(free.cpu.getState());
    expect(h.cpu.instructions).toBe(free.cpu.instructions);
    expect(h.memory.readBytes(0x150000, 0x2000)).toEqual(free.memory.readBytes(0x150000, 0x2000));
    // TLB fills, walks, the page fault: the reporting slow paths add no walk and no event
    expect(all[0]!.filter((e) => e.includes('"walk"')).length).toBeGreaterThan(10);
    expect(all[0]).toEqual(all[1]);
  });
});
