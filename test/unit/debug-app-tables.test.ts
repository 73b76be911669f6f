// The app's view of the descriptor tables under ring compression (--cpu deprivilege): while the
// guest runs, the CPU's GDTR/IDTR hold the VMM's tables (0xffc01000 / 0xffc02000, where the guest
// has nothing mapped); the views must decode the guest's own GDT and IDT (what its LGDT/LIDT
// loaded) and say where the CPU's registers point. Lesson 7's kernel (lessons/_lib/mb.inc loads
// a flat GDT; the kernel a page-fault gate at vector 14).
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Engine } from '../../src/worker/engine.ts';
import { realCore } from '../../src/worker/core.ts';
import { decodeTable } from '../../src/ui/model/x86-bits.ts';
import { VMM_GDT_BASE, VMM_IDT_BASE } from '../../src/hypervisor/ring-compression.ts';
import type { HvConfig } from '../../src/worker/protocol.ts';

const LESSON = join(import.meta.dirname, '../../lessons/07-shadow-paging/kernel.asm');

function lesson7(): { image: Uint8Array; pass2: number } {
  const r = assemble(readFileSync(LESSON, 'utf8'), {
    fileName: LESSON,
    provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(dirname(LESSON), p), 'utf8') },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return { image: r.bytes, pass2: r.map.symbols.find((x) => x.name === 'pass2')!.address };
}

/** An engine paused at the kernel's `pass2` (protected mode, paging on, its IDT loaded). */
function atPass2(hv: HvConfig | null): Engine {
  const { image, pass2 } = lesson7();
  const e = new Engine(realCore(), 32 << 20, hv);
  e.load(image, { kind: 'multiboot' });
  expect(e.runTo(pass2).kind).toBe('target');
  expect(e.linearEip(e.state())).toBe(pass2);
  return e;
}

/** Bytes at a guest linear address, as the app's memory views read them. */
function readLinear(e: Engine, linear: number, length: number): Uint8Array | null {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const p = e.toPhysical((linear + i) >>> 0);
    if (p === null) return null;
    out[i] = e.readPhys8(p);
  }
  return out;
}

describe('GDT/IDT views under ring compression', () => {
  it("show the guest's own tables, and where the CPU's GDTR/IDTR point", () => {
    const hv: HvConfig = { mode: 'hypervisor', vms: 1, cpu: 'deprivilege', paging: 'shadow', sched: 'rr' };
    const e = atPass2(hv);
    // The CPU itself holds the VMM's tables: nothing of the guest's is mapped there.
    const raw = e.cpu.getState();
    expect(raw.gdtr.base >>> 0).toBe(VMM_GDT_BASE);
    expect(readLinear(e, VMM_GDT_BASE, 8)).toBeNull();
    const view = e.state();
    expect(view.cpuTables).toEqual({ gdtr: raw.gdtr, idtr: raw.idtr });
    expect(view.cpuTables!.idtr.base >>> 0).toBe(VMM_IDT_BASE);
    // The guest's GDT: a null descriptor, then flat ring-0 code and data (as mb.inc loads them).
    expect(view.gdtr.base).not.toBe(VMM_GDT_BASE);
    const gdtBytes = readLinear(e, view.gdtr.base, view.gdtr.limit + 1)!;
    const gdt = decodeTable(gdtBytes, Math.floor((view.gdtr.limit + 1) / 8));
    expect(gdt[0]!.kind).toBe('null');
    const code = gdt.find((d) => d.kind === 'code')!;
    expect(code).toMatchObject({ base: 0, present: true });
    expect(code.summary).toMatch(/DPL 0|dpl 0|ring 0/i); // the guest's own view: ring 0, not the compressed ring 1
    expect(view.cs.selector & 3).toBeLessThanOrEqual(1);
    // The guest's IDT has its page-fault gate.
    expect(view.idtr.base).not.toBe(VMM_IDT_BASE);
    const idt = decodeTable(readLinear(e, view.idtr.base, 15 * 8)!, 15);
    expect(idt[14]!.present).toBe(true);
    e.dispose();
  });

  it('on a bare machine the view is the CPU state, without the note', () => {
    const e = atPass2(null);
    expect(e.state().cpuTables).toBeUndefined();
    expect(e.state().gdtr).toEqual(e.cpu.getState().gdtr);
  });
});
