// Power-on state, the architectural state as plain data (getState/setState), and snapshots that
// also carry the internal latches (interrupt shadow, halted, pending INTR poll, shutdown, time).
import type { Cpu } from './cpu.ts';
import { refreshAllRanges, setSegment } from './segments.ts';
import { CR0_PE, CR0_PG, CS, DS, ES, FS, GS, LDTR, SS, TR } from './state.ts';
import { T_CLEAN, T_CODE, T_MMIO } from '../tlb-entry.ts';

/**
 * TLB entry bits that are bookkeeping of this CPU and memory (decoded code on the page, page not
 * written since the memory's last snapshot, MMIO), not of the translation: left out of a saved
 * entry and recomputed when it is loaded, from the state the CPU and memory have then.
 */
const BOOKKEEPING = T_CODE | T_CLEAN | T_MMIO;

export interface SegmentState {
  selector: number;
  base: number;
  limit: number;
  /** descriptor bytes 5..6: access byte | (flags nibble << 8): G=0x800, D/B=0x400 */
  access: number;
}

export interface CpuState {
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
  eip: number;
  eflags: number;
  es: SegmentState;
  cs: SegmentState;
  ss: SegmentState;
  ds: SegmentState;
  fs: SegmentState;
  gs: SegmentState;
  ldtr: SegmentState;
  tr: SegmentState;
  gdtr: { base: number; limit: number };
  idtr: { base: number; limit: number };
  cr0: number;
  cr2: number;
  cr3: number;
  cr4: number;
  dr: number[];
  tsc: number;
  halted: boolean;
}

interface CpuSnapshot {
  version: 1;
  state: CpuState;
  inhibit: number;
  intrPending: boolean;
  shutdown: boolean;
  instructions: number;
  tscOffset: number;
  lastMode: number;
  /**
   * The filled TLB entries as (linear page, entry) pairs. A TLB is part of the state a replay
   * starts from: restoring with a cold TLB would re-fill it (tlb events, and under the hypervisor
   * modelled walk cycles), so a replay's events would be numbered differently from the first run's.
   * Absent in snapshots written before it was kept: those load with a flushed TLB.
   */
  tlb?: Int32Array;
}

const REGS = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'] as const;
const SEGS: [keyof CpuState, number][] = [
  ['es', ES],
  ['cs', CS],
  ['ss', SS],
  ['ds', DS],
  ['fs', FS],
  ['gs', GS],
  ['ldtr', LDTR],
  ['tr', TR],
];

export function resetState(c: Cpu): void {
  c.regs.fill(0);
  c.regs[2] = 0x480; // EDX = the CPU signature after reset
  c.eip = 0xfff0;
  c.flags = 2;
  c.lazyMask = 0;
  c.cr0 = 0x60000010;
  c.cr2 = c.cr3 = c.cr4 = 0;
  c.cpl = 0;
  c.updateMasks();
  for (let s = 0; s < 6; s++) setSegment(c, s, 0, 0, 0xffff, 0x93);
  setSegment(c, CS, 0xf000, 0xffff0000 | 0, 0xffff, 0x9b);
  setSegment(c, LDTR, 0, 0, 0xffff, 0x82);
  setSegment(c, TR, 0, 0, 0xffff, 0x8b);
  c.gdtBase = c.idtBase = 0;
  c.gdtLimit = c.idtLimit = 0xffff;
  c.dr.splice(0, 8, 0, 0, 0, 0, 0xffff0ff0, 0x400, 0xffff0ff0, 0x400);
  c.halted = false;
  c.inhibit = 0;
  c.intrPending = false;
  c.stopBlock = 0;
  c.stopRequested = false;
  refreshAllRanges(c);
}

function seg(c: Cpu, s: number): SegmentState {
  return {
    selector: c.segSel[s]!,
    base: c.segBase[s]! >>> 0,
    limit: c.segLimit[s]!,
    access: c.segAccess[s]!,
  };
}

export function getState(c: Cpu): CpuState {
  const st = {} as CpuState;
  REGS.forEach((name, i) => (st[name] = c.regs[i]! >>> 0));
  st.eip = c.eip >>> 0;
  st.eflags = c.getEflags();
  for (const [name, s] of SEGS) (st as unknown as Record<string, SegmentState>)[name] = seg(c, s);
  st.gdtr = { base: c.gdtBase >>> 0, limit: c.gdtLimit };
  st.idtr = { base: c.idtBase >>> 0, limit: c.idtLimit };
  st.cr0 = c.cr0 >>> 0;
  st.cr2 = c.cr2 >>> 0;
  st.cr3 = c.cr3 >>> 0;
  st.cr4 = c.cr4 >>> 0;
  st.dr = c.dr.map((x) => x >>> 0);
  st.tsc = c.instructions + c.tscOffset;
  st.halted = c.halted;
  return st;
}

export function setState(c: Cpu, st: CpuState): void {
  applyState(c, st);
  c.flushTlb();
}

/** Everything of setState but the TLB flush (loadSnapshot restores the TLB itself, silently). */
function applyState(c: Cpu, st: CpuState): void {
  REGS.forEach((name, i) => (c.regs[i] = st[name] | 0));
  c.eip = st.eip | 0;
  c.flags = (st.eflags | 2) & ~0x20000;
  c.lazyMask = 0;
  c.cr0 = st.cr0 | 0;
  c.cr2 = st.cr2 | 0;
  c.cr3 = st.cr3 | 0;
  c.cr4 = st.cr4 | 0;
  for (const [name, s] of SEGS) {
    const v = (st as unknown as Record<string, SegmentState>)[name]!;
    setSegment(c, s, v.selector, v.base, v.limit, v.access);
  }
  c.gdtBase = st.gdtr.base | 0;
  c.gdtLimit = st.gdtr.limit;
  c.idtBase = st.idtr.base | 0;
  c.idtLimit = st.idtr.limit;
  c.dr.splice(0, 8, ...st.dr.map((x) => x | 0));
  c.tscOffset = st.tsc - c.instructions;
  c.halted = st.halted;
  c.cpl = (c.cr0 & CR0_PE) !== 0 ? c.segSel[CS]! & 3 : 0;
  c.updateMasks();
  refreshAllRanges(c);
  c.paging = (c.cr0 & CR0_PG) !== 0;
  c.lastMode = c.cr0 & (CR0_PE | CR0_PG);
  c.stopBlock = 1;
  c.intrPending = c.pic !== null;
}

export function saveSnapshot(c: Cpu): unknown {
  const snap: CpuSnapshot = {
    version: 1,
    state: getState(c),
    inhibit: c.inhibit,
    intrPending: c.intrPending,
    shutdown: c.shutdown,
    instructions: c.instructions,
    tscOffset: c.tscOffset,
    lastMode: c.lastMode,
  };
  const out = structuredClone(snap);
  out.tlb = saveTlb(c);
  return out;
}

/** The TLB's private fields (src/machine/tlb.ts keeps these names for snapshots). */
interface TlbInternals {
  /** Bumped on every flush: chained block links made before it go stale. */
  epoch: number;
  tlb: Int32Array;
  tlbList: Int32Array;
  tlbCount: number;
  tlbOverflow: boolean;
}

function saveTlb(cpu: Cpu): Int32Array {
  const c = cpu as unknown as TlbInternals;
  const out: number[] = [];
  if (c.tlbOverflow) {
    for (let lp = 0; lp < c.tlb.length; lp++) if (c.tlb[lp] !== 0) out.push(lp, c.tlb[lp]! & ~BOOKKEEPING);
  } else {
    for (let i = 0; i < c.tlbCount; i++) {
      const lp = c.tlbList[i]!;
      if (c.tlb[lp] !== 0) out.push(lp, c.tlb[lp]! & ~BOOKKEEPING);
    }
  }
  return Int32Array.from(out);
}

/** Empties the TLB without a flush event, then refills it with the saved entries (memory is loaded first). */
function loadTlb(cpu: Cpu, saved: Int32Array): void {
  const c = cpu as unknown as TlbInternals;
  const dirtyPages = (cpu.memory as unknown as { dirtyPages: Uint8Array }).dirtyPages;
  c.epoch++;
  if (c.tlbOverflow) c.tlb.fill(0);
  else for (let i = 0; i < c.tlbCount; i++) c.tlb[c.tlbList[i]!] = 0;
  c.tlbCount = 0;
  c.tlbOverflow = false;
  for (let i = 0; i < saved.length; i += 2) {
    const lp = saved[i]!;
    if (c.tlb[lp] === 0) {
      if (c.tlbCount < c.tlbList.length) c.tlbList[c.tlbCount++] = lp;
      else c.tlbOverflow = true;
    }
    const e = saved[i + 1]! & ~BOOKKEEPING;
    const page = e >>> 12;
    const kind = cpu.kindBits(page);
    c.tlb[lp] = e | kind | ((kind & T_MMIO) === 0 && dirtyPages[page] === 0 ? T_CLEAN : 0);
  }
}

export function loadSnapshot(c: Cpu, raw: unknown): void {
  const s = raw as CpuSnapshot;
  if (s === null || typeof s !== 'object' || s.version !== 1) throw new Error('not a vizor CPU snapshot');
  c.instructions = s.instructions;
  if (s.tlb instanceof Int32Array) {
    applyState(c, s.state);
    loadTlb(c, s.tlb);
  } else setState(c, s.state);
  c.tscOffset = s.tscOffset;
  c.inhibit = s.inhibit;
  c.intrPending = s.intrPending;
  c.shutdown = s.shutdown;
  c.lastMode = s.lastMode;
}
