// What the views see of the machine at a stop or a running frame: the CPU, the VGA screen, the
// memory regions the views watch (read through the guest's page tables) and a screenful of
// disassembly. Reads only; the host decides when to send them.
import type { Core } from './core.ts';
import type { Engine } from './engine.ts';
import type { AsmMap, CpuView, DisasmLine, MachineSnapshotView, Region, RegionBytes } from './protocol.ts';
import { linearToPhysical } from './walk.ts';

export interface Frame {
  snapshot: MachineSnapshotView;
  regions: RegionBytes[];
  disasm: DisasmLine[];
  canStepBack: boolean;
}

/** The frame of the machine as it is now; `map` (null for a raw image) places labels and data. */
export function buildFrame(e: Engine, core: Core, map: AsmMap | null, regions: Region[]): Frame {
  const cpu = e.state();
  const snapshot: MachineSnapshotView = {
    cpu: JSON.parse(JSON.stringify(cpu)) as CpuView,
    instructions: e.instructions,
    vga: e.vgaText(),
    vgaCells: e.vgaCells(),
  };
  return {
    snapshot,
    regions: regions.map((r) => readRegion(e, r)),
    disasm: disassembleAround(e, core, map, cpu),
    canStepBack: e.instructions > e.historyStart || e.dbg.hereSub > 0,
  };
}

/** Where a region's address counts from: a register the view follows (the stack follows ESP, ...). */
function resolveBase(r: Region, cpu: CpuView): number {
  switch (r.relativeTo) {
    case undefined: return 0;
    case 'esp': return cpu.ss.base + cpu.esp;
    case 'eip': return cpu.cs.base + cpu.eip;
    case 'gdtr': return cpu.gdtr.base;
    case 'idtr': return cpu.idtr.base;
    case 'tr': return cpu.tr.base;
    case 'cr3': return cpu.cr3 & 0xfffff000;
  }
}

/** A region's bytes, page by page: a linear page that is not mapped reads as zeros and is marked so. */
export function readRegion(e: Engine, wanted: Region): RegionBytes {
  const cpu = e.state();
  const region = { ...wanted, address: (resolveBase(wanted, cpu) + wanted.address) >>> 0 };
  const bytes = new Uint8Array(region.length);
  const pages = Math.ceil(((region.address & 0xfff) + region.length) / 4096);
  const mapped: boolean[] = [];
  for (let pg = 0; pg < pages; pg++) {
    const pageLinear = ((region.address & ~0xfff) + pg * 4096) >>> 0;
    const base = region.space === 'physical' ? pageLinear : linearToPhysical(pageLinear, cpu.cr0, cpu.cr3, cpu.cr4, (a) => e.readPhys32(a));
    mapped.push(base !== null);
    if (base === null) continue;
    const from = Math.max(region.address, pageLinear);
    const to = Math.min(region.address + region.length, pageLinear + 4096);
    for (let a = from; a < to; a++) bytes[a - region.address] = e.readPhys8((base + (a - pageLinear)) >>> 0);
  }
  return { key: region.key, address: region.address, space: region.space, bytes, mapped };
}

/** A screenful of instructions around EIP, starting from an instruction boundary the map knows. */
function disassembleAround(e: Engine, core: Core, map: AsmMap | null, cpu: CpuView): DisasmLine[] {
  const eip = e.linearEip(cpu);
  const bits: 16 | 32 = (cpu.cr0 & 1) !== 0 && (cpu.cs.access & 0x400) !== 0 ? 32 : 16;
  const code = map?.lines.filter((l) => l.code) ?? [];
  const idx = code.findIndex((l) => l.address === eip);
  const start = idx >= 0 ? code[Math.max(0, idx - 6)].address : eip;
  const labels = new Map((map?.symbols ?? []).map((s) => [s.address >>> 0, s.name]));
  const data = map?.lines.filter((l) => !l.code) ?? [];
  const out: DisasmLine[] = [];
  let addr = start;
  for (let n = 0; n < 24; n++) {
    const bytes = readRegion(e, { key: '', address: addr, length: 16, space: 'linear' }).bytes;
    // Bytes the assembler emitted as data are shown as data, not decoded as instructions.
    const item = data.find((l) => addr >= l.address && addr < l.address + l.length);
    const d = item ? null : core.decode(bytes, addr - cpu.cs.base, bits);
    const length = item ? Math.min(8, item.address + item.length - addr) : (d?.length ?? 1);
    const hexBytes = Array.from(bytes.subarray(0, length), (b) => b.toString(16).padStart(2, '0'));
    out.push({
      address: addr,
      bytes: hexBytes.join(' '),
      text: d?.text ?? `db ${hexBytes.map((h) => '0x' + h).join(',')}`,
      label: labels.get(addr),
    });
    addr += length;
  }
  return out;
}
