// What the VM cards, the exits-by-reason bars, the scheduler Gantt and the host memory map show,
// derived from the events up to the debugger's position (seq <= upTo), so every view moves with
// the stepping, backwards too. Pure functions over event arrays.
import type { ExitReason } from '../../trace/schema.ts';
import type { FrameOwner, RunInfo, VizEvent } from './types.ts';

export type VmRunState = 'running' | 'runnable' | 'blocked' | 'exited';

export interface VmCard {
  vm: number;
  name: string;
  state: VmRunState;
  cpu: string;
  paging: string;
  exits: number;
  hiddenFaults: number;
  trueFaults: number;
  console: string;
}

/**
 * Scheduling semantics read from sched events: `to` runs; `from` becomes runnable, or blocked
 * when the reason is 'halt', or exited for 'exit'; 'wake' makes `to` runnable without running it.
 */
export function vmCards(events: readonly VizEvent[], info: RunInfo, upTo = Infinity): VmCard[] {
  const cards = new Map<number, VmCard>(info.vms.map((v) => [v.vm, {
    vm: v.vm, name: v.name, state: 'runnable' as VmRunState, cpu: v.cpu, paging: v.paging, exits: 0, hiddenFaults: 0, trueFaults: 0, console: '',
  }]));
  for (const ev of events) {
    if (ev.seq > upTo) break;
    const card = cards.get(ev.vm);
    switch (ev.kind) {
      case 'exit': if (card) card.exits++; break;
      case 'pagefault': if (card) { if (ev.outcome === 'hidden' || ev.outcome === 'ept-violation') card.hiddenFaults++; else card.trueFaults++; } break;
      case 'console': if (card) card.console = (card.console + ev.text).slice(-400); break;
      case 'shutdown': if (card) card.state = 'exited'; break;
      case 'sched': {
        const from = cards.get(ev.from), to = cards.get(ev.to);
        if (ev.reason === 'wake') { if (to && to.state === 'blocked') to.state = 'runnable'; break; }
        if (from && from.state !== 'exited') from.state = ev.reason === 'halt' ? 'blocked' : ev.reason === 'exit' ? 'exited' : 'runnable';
        if (to) to.state = 'running';
        break;
      }
    }
  }
  return [...cards.values()];
}

export interface ReasonStat { reason: ExitReason; count: number; cycles: number }

/** Exit counts and modelled cycles per VM and reason, biggest first. */
export function exitStats(events: readonly VizEvent[], upTo = Infinity): Map<number, ReasonStat[]> {
  const per = new Map<number, Map<ExitReason, ReasonStat>>();
  for (const ev of events) {
    if (ev.seq > upTo) break;
    if (ev.kind !== 'exit') continue;
    let m = per.get(ev.vm);
    if (!m) per.set(ev.vm, (m = new Map()));
    const s = m.get(ev.reason) ?? { reason: ev.reason, count: 0, cycles: 0 };
    s.count++;
    s.cycles += ev.cycles;
    m.set(ev.reason, s);
  }
  return new Map([...per].sort((a, b) => a[0] - b[0]).map(([vm, m]) => [vm, [...m.values()].sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason))]));
}

export interface GanttSegment { vm: number; start: number; end: number; reason: string }
export interface CreditPoint { tick: number; credits: number[] }
export interface ShareRow { vm: number; ticks: number; share: number; weight: number; weightShare: number }
export interface Schedule { segments: GanttSegment[]; credits: CreditPoint[]; shares: ShareRow[]; start: number; end: number }

/**
 * The physical CPU over time: which VM held it from each switch to the next (including the
 * hypervisor's work on its behalf), why it got it, the credits after each decision, and each VM's
 * achieved share of CPU time against its share of the total weight.
 */
export function schedule(events: readonly VizEvent[], info: RunInfo, upTo = Infinity): Schedule {
  const segments: GanttSegment[] = [];
  const credits: CreditPoint[] = [];
  let current: GanttSegment | null = null;
  let start = Infinity, end = 0;
  for (const ev of events) {
    if (ev.seq > upTo) break;
    start = Math.min(start, ev.tick);
    end = Math.max(end, ev.tick);
    if (ev.kind !== 'sched' || ev.reason === 'wake') continue;
    if (current) { current.end = ev.tick; if (current.end > current.start) segments.push(current); }
    current = ev.to >= 0 ? { vm: ev.to, start: ev.tick, end: ev.tick, reason: ev.reason } : null;
    if (ev.credits) credits.push({ tick: ev.tick, credits: ev.credits });
  }
  if (current) { current.end = end; if (current.end > current.start) segments.push(current); }
  return { segments, credits, shares: sharesOf(segments, info), start: start === Infinity ? 0 : start, end };
}

/** Each VM's achieved share of the CPU time in `segments`, against its share of the total weight. */
export function sharesOf(segments: readonly GanttSegment[], info: RunInfo): ShareRow[] {
  const ticks = new Map<number, number>();
  for (const s of segments) ticks.set(s.vm, (ticks.get(s.vm) ?? 0) + s.end - s.start);
  const total = [...ticks.values()].reduce((a, b) => a + b, 0) || 1;
  const weights = info.vms.reduce((a, v) => a + v.weight, 0) || 1;
  return info.vms.map((v) => ({
    vm: v.vm, ticks: ticks.get(v.vm) ?? 0, share: (ticks.get(v.vm) ?? 0) / total, weight: v.weight, weightShare: v.weight / weights,
  }));
}

/** Owner codes in the memory map: 0 free, 1 hypervisor, then per VM: guest, shadow, nested. */
export const OWNER_FREE = 0, OWNER_HV = 1;
export const ownerCode = (owner: FrameOwner, vm: number): number =>
  owner === 'hypervisor' ? OWNER_HV : 2 + vm * 3 + (owner === 'guest' ? 0 : owner === 'shadow' ? 1 : 2);
export const decodeOwner = (code: number): { owner: FrameOwner | 'free'; vm: number } =>
  code === OWNER_FREE ? { owner: 'free', vm: -1 } : code === OWNER_HV ? { owner: 'hypervisor', vm: -1 }
    : { owner: (['guest', 'shadow', 'nested'] as const)[(code - 2) % 3]!, vm: Math.floor((code - 2) / 3) };

export interface MemoryMap { owners: Uint16Array; counts: Map<number, number>; lastChanged: number }

/**
 * Who owns every host frame at the position `upTo`: the hypervisor's own first frames
 * (info.hvFrames), then the frame events replayed in order — alloc colours a frame, free clears
 * it — so stepping back un-colours what was handed out later. A trace without frame events (an
 * older file, or one recorded without the kind) falls back to inference: a shadow PTE's or a TLB
 * fill's frame is that VM's memory, a 'host' walk reference lies in a shadow table and a 'nested'
 * one in a nested table, and what their present entries point to is the next table down or, at
 * the last level, the VM's memory.
 */
export function memoryMap(events: readonly VizEvent[], info: RunInfo, upTo = Infinity): MemoryMap {
  const owners = new Uint16Array(info.hostFrames);
  owners.fill(OWNER_HV, 0, Math.min(owners.length, info.hvFrames ?? 0));
  let lastChanged = -1;
  const set = (frame: number, code: number): void => {
    if (frame >= 0 && frame < owners.length && owners[frame] !== code) { owners[frame] = code; lastChanged = frame; }
  };
  const infer = !events.some((ev) => ev.kind === 'frame');
  const guess = (frame: number, code: number): void => { if (owners[frame] === OWNER_FREE) set(frame, code); };
  for (const ev of events) {
    if (ev.seq > upTo) break;
    if (ev.kind === 'frame') {
      set(ev.frame, ev.op === 'alloc' ? ownerCode(ev.owner, ev.ownerVm) : OWNER_FREE);
    } else if (!infer) {
      continue;
    } else if (ev.kind === 'shadow' && (ev.op === 'fill' || ev.op === 'resync') && (ev.shadowPte & 1) && ev.vm >= 0) {
      guess(ev.shadowPte >>> 12, ownerCode('guest', ev.vm));
    } else if (ev.kind === 'walk' && ev.vm >= 0 && ev.dimension !== 'guest') {
      // The entry read lies in a shadow/nested table; what a present entry points to is another
      // such table (level 2) or a frame of the VM's memory (level 1).
      const table = ev.dimension === 'host' ? 'shadow' : 'nested';
      guess(ev.address >>> 12, ownerCode(table, ev.vm));
      if (ev.value & 1) guess(ev.value >>> 12, ownerCode(ev.level >= 2 ? table : 'guest', ev.vm));
    } else if (ev.kind === 'tlb' && ev.op === 'fill' && ev.physical !== undefined && ev.vm >= 0) {
      guess(ev.physical >>> 12, ownerCode('guest', ev.vm));
    }
  }
  const counts = new Map<number, number>();
  for (const o of owners) counts.set(o, (counts.get(o) ?? 0) + 1);
  return { owners, counts, lastChanged };
}
