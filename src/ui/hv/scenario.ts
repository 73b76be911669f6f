// A coherent synthetic hypervisor run for the views, their tests and the bench, until the real
// hypervisor emits its stream. Unlike src/trace/synthetic.ts (every field value, no meaning) the
// events here tell one consistent story: VMs scheduled by credit on one physical CPU, guest time
// between entries and exits, shadow faults that the hypervisor hides or injects, shadow fills of
// the very PTEs the guest's tables hold, write-protected guest table pages, CR3 flushes, INVLPG,
// EPT violations with their 2-D walks, and host frames handed out as guests fault memory in.
// Deterministic (seeded xorshift); cycle costs are illustrative, not measured.
import type { EventFields, EventKind, ExitReason, TraceEvent } from '../../trace/schema.ts';
import type { FrameOwner, RunInfo, VizEvent, VmInfo } from './types.ts';

export interface ScenarioOptions {
  /** Stop after about this many events. */
  events: number;
  paging: 'shadow' | 'nested';
  vms?: number;
  seed?: number;
  /** Weights per VM (credit scheduler); default 256, 512, 256, ... */
  weights?: number[];
}

export interface Scenario {
  info: RunInfo;
  events: VizEvent[];
}

const P = 1, W = 2, U = 4, A = 0x20, D = 0x40;
const HOST_FRAMES = 4096; // 16 MiB of host memory
const HV_FRAMES = 256; // the hypervisor's own first MiB
const COST: Partial<Record<ExitReason, number>> = {
  EXCEPTION_NMI: 2600, EPT_VIOLATION: 2200, CR_ACCESS: 1400, IO_INSTRUCTION: 1100, HLT: 600,
  CPUID: 700, INVLPG: 1000, PREEMPTION_TIMER: 800, EXTERNAL_INTERRUPT: 900, RDTSC: 300,
};

function rng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return (n) => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x % n;
  };
}

/** The guest pages a toy kernel touches: its code, a user area and a stack. */
const PAGES: number[] = [
  ...Array.from({ length: 16 }, (_, i) => 0x00100000 + i * 0x1000),
  ...Array.from({ length: 24 }, (_, i) => 0x00400000 + i * 0x1000),
  ...Array.from({ length: 8 }, (_, i) => 0xbfff8000 + i * 0x1000),
];
const GUEST_PD = 0x1000; // guest-physical address of each guest's page directory
const guestPtOf = (dir: number): number => 0x2000 + (dir % 0x100) * 0x1000;
/** Guest-physical frame the guest maps a linear page to (identity for the kernel). */
const guestFrameOf = (linear: number): number => (linear < 0x400000 ? linear >>> 12 : 0x200 + ((linear >>> 12) & 0x1ff));

class VmModel {
  guestPresent = new Set<number>(); // linear pages the guest's own PTEs map
  shadow = new Map<number, number>(); // linear page -> shadow PTE (shadow paging)
  shadowPts = new Map<number, number>(); // dir -> host frame of the shadow PT
  shadowPd = -1;
  protectedTables = new Set<number>();
  ept = new Map<number, number>(); // guest frame -> host frame (nested paging)
  eptPd = -1;
  eptPts = new Map<number, number>(); // guest 4 MiB region -> host frame of the nested PT
  credits = 0;
  ran = 0;
  blocked = false;
  exited = false;
  eip = 0x100000;
  line = 0;
  constructor(readonly info: VmInfo, readonly hostBase: number) {}
}

export function generateScenario(opts: ScenarioOptions): Scenario {
  const r = rng(opts.seed ?? 7);
  const nVms = opts.vms ?? 3;
  const vms: VmInfo[] = Array.from({ length: nVms }, (_, i) => ({
    vm: i, name: `vm${i}`, cpu: 'vtx', paging: opts.paging, weight: opts.weights?.[i] ?? (i === 1 ? 512 : 256),
  }));
  const info: RunInfo = { vms, sched: 'credit', hostFrames: HOST_FRAMES, hvFrames: HV_FRAMES };
  const events: VizEvent[] = [];
  let seq = 0;
  let tick = 0;
  const emit = <K extends EventKind>(vm: number, kind: K, f: EventFields[K]): void => {
    events.push({ seq: ++seq, tick, vm, vcpu: 0, kind, ...f } as TraceEvent);
  };
  let nextFree = HV_FRAMES;
  const freeFrames: number[] = [];
  const frame = (owner: FrameOwner, ownerVm: number, at?: number, count = 1): number => {
    const f = at ?? (freeFrames.length > 0 ? freeFrames.splice(r(freeFrames.length), 1)[0]! : nextFree++);
    for (let k = 0; k < count; k++) events.push({ seq: ++seq, tick, vm: -1, vcpu: 0, kind: 'frame', op: 'alloc', frame: f + k, owner, ownerVm });
    return f;
  };
  const models = vms.map((v) => {
    if (v.paging !== 'shadow') return new VmModel(v, 0);
    const base = nextFree;
    frame('guest', v.vm, base, 1024); // 4 MiB of guest memory, given up front
    nextFree += 1024;
    return new VmModel(v, base);
  });
  // Nested paging: guests get frames on demand; leave the rest of memory as a shuffled free list.
  if (opts.paging === 'nested') {
    for (let f = nextFree; f < HOST_FRAMES; f++) freeFrames.push(f);
  }
  for (const m of models) {
    PAGES.forEach((p, i) => { if (i % 5 !== 3) m.guestPresent.add(p); }); // some pages start unmapped
    m.credits = m.info.weight * 4;
  }

  const gpte = (m: VmModel, lin: number): number => (m.guestPresent.has(lin) ? (guestFrameOf(lin) << 12) | P | W | U | A : 0);
  const hostFrameOf = (m: VmModel, gframe: number): number => m.hostBase + (gframe & 0x3ff);
  const exit = (m: VmModel, reason: ExitReason, extra: Partial<EventFields['exit']> = {}): number => {
    const cycles = (COST[reason] ?? 500) + r(400);
    emit(m.info.vm, 'exit', { reason, qualification: 0, instructionLength: 0, eip: m.eip, cycles, ...extra });
    return cycles;
  };
  const enter = (m: VmModel, cycles: number, injectedVector?: number): void => {
    tick += cycles;
    emit(m.info.vm, 'entry', injectedVector === undefined ? { eip: m.eip } : { eip: m.eip, injectedVector });
  };

  const shadowTablesFor = (m: VmModel, lin: number): void => {
    const vm = m.info.vm;
    if (m.shadowPd < 0) m.shadowPd = frame('shadow', vm);
    const dir = lin >>> 22;
    if (!m.shadowPts.has(dir)) {
      m.shadowPts.set(dir, frame('shadow', vm));
      const table = guestPtOf(dir);
      if (!m.protectedTables.has(table)) {
        m.protectedTables.add(table);
        const g = (table & ~0xfff) | P | W | A;
        emit(vm, 'shadow', { op: 'write-protect', linear: table, guestPte: g, shadowPte: (hostFrameOf(m, table >>> 12) << 12) | P | A, guestTable: table });
      }
    }
  };
  const guestWalk = (m: VmModel, lin: number): void => {
    const dir = lin >>> 22;
    emit(m.info.vm, 'walk', { linear: lin, step: 1, level: 2, dimension: 'guest', address: GUEST_PD + dir * 4, value: guestPtOf(dir) | P | W | U | A });
    emit(m.info.vm, 'walk', { linear: lin, step: 2, level: 1, dimension: 'guest', address: guestPtOf(dir) + ((lin >>> 12) & 0x3ff) * 4, value: gpte(m, lin) });
  };

  const shadowFault = (m: VmModel, lin: number, write: boolean): void => {
    const vm = m.info.vm;
    const present = m.guestPresent.has(lin);
    const errorCode = (write ? 2 : 0) | 4;
    const cycles = exit(m, 'EXCEPTION_NMI', { qualification: lin, guestLinear: lin });
    if (!present) {
      emit(vm, 'pagefault', { outcome: 'injected', linear: lin, errorCode, eip: m.eip });
      guestWalk(m, lin);
      enter(m, cycles, 14);
      // The guest's #PF handler maps the page: its PTE write hits a write-protected table page.
      tick += 300 + r(500);
      m.guestPresent.add(lin);
      const table = guestPtOf(lin >>> 22);
      const c2 = exit(m, 'EXCEPTION_NMI', { qualification: table, guestLinear: table });
      emit(vm, 'pagefault', { outcome: 'hidden', linear: table + ((lin >>> 12) & 0x3ff) * 4, physical: table, errorCode: P | W, eip: m.eip });
      shadowTablesFor(m, lin);
      const spte = (hostFrameOf(m, guestFrameOf(lin)) << 12) | P | W | U | A;
      m.shadow.set(lin, spte);
      emit(vm, 'shadow', { op: 'resync', linear: lin, guestPte: gpte(m, lin), shadowPte: spte, guestTable: table });
      enter(m, c2);
      return;
    }
    emit(vm, 'pagefault', { outcome: 'hidden', linear: lin, physical: guestFrameOf(lin) << 12, errorCode, eip: m.eip });
    guestWalk(m, lin);
    shadowTablesFor(m, lin);
    const spte = (hostFrameOf(m, guestFrameOf(lin)) << 12) | P | W | U | A | (write ? D : 0);
    m.shadow.set(lin, spte);
    emit(vm, 'shadow', { op: 'fill', linear: lin, guestPte: gpte(m, lin), shadowPte: spte });
    enter(m, cycles);
  };

  const eptFor = (m: VmModel, gframe: number): number => {
    const vm = m.info.vm;
    if (m.eptPd < 0) m.eptPd = frame('nested', vm);
    const region = gframe >>> 10;
    if (!m.eptPts.has(region)) m.eptPts.set(region, frame('nested', vm));
    let h = m.ept.get(gframe);
    if (h === undefined) { h = frame('guest', vm); m.ept.set(gframe, h); }
    return h;
  };
  const nestedRefs = (m: VmModel, lin: number, gpa: number, first: number): number => {
    const g = gpa >>> 12;
    const pt = m.eptPts.get(g >>> 10);
    const h = m.ept.get(g);
    emit(m.info.vm, 'walk', { linear: lin, step: first, level: 2, dimension: 'nested', address: (m.eptPd << 12) + (g >>> 10) * 4, value: pt === undefined ? 0 : (pt << 12) | 7 });
    emit(m.info.vm, 'walk', { linear: lin, step: first + 1, level: 1, dimension: 'nested', address: ((pt ?? 0) << 12) + (g & 0x3ff) * 4, value: h === undefined ? 0 : (h << 12) | 7 });
    return first + 2;
  };
  const eptViolation = (m: VmModel, lin: number): void => {
    const vm = m.info.vm;
    const gpa = guestFrameOf(lin) << 12;
    const cycles = exit(m, 'EPT_VIOLATION', { qualification: 0x181, guestLinear: lin, guestPhysical: gpa });
    emit(vm, 'pagefault', { outcome: 'ept-violation', linear: lin, physical: gpa, errorCode: 0x181, eip: m.eip });
    const dir = lin >>> 22;
    let step = nestedRefs(m, lin, GUEST_PD, 1);
    emit(vm, 'walk', { linear: lin, step: step++, level: 2, dimension: 'guest', address: GUEST_PD + dir * 4, value: guestPtOf(dir) | P | W | U | A });
    step = nestedRefs(m, lin, guestPtOf(dir), step);
    emit(vm, 'walk', { linear: lin, step: step++, level: 1, dimension: 'guest', address: guestPtOf(dir) + ((lin >>> 12) & 0x3ff) * 4, value: (guestFrameOf(lin) << 12) | P | W | U | A });
    nestedRefs(m, lin, gpa, step); // the reference that misses: why this exit happened
    eptFor(m, gpa >>> 12);
    enter(m, cycles);
  };

  // VM start: shadow guests get their page directory write-protected on the first CR3 load;
  // nested guests get their kernel image and tables placed in guest memory.
  tick = 100;
  for (const m of models) {
    if (m.info.paging === 'nested') {
      for (const g of [1, 2, 3, 4, 0x2ff + 2]) eptFor(m, g);
      for (let g = 0x100; g < 0x104; g++) eptFor(m, g);
    }
  }
  const schedule = (from: number, to: number, reason: EventFields['sched']['reason']): void => {
    emit(-1, 'sched', { from, to, reason, credits: models.map((m) => m.credits) });
  };
  let current = -1;
  const pick = (): VmModel | null => {
    const ready = models.filter((m) => !m.blocked && !m.exited);
    if (ready.length === 0) return null;
    if (ready.every((m) => m.credits <= 0)) for (const m of models) m.credits += m.info.weight * 4;
    return ready.reduce((a, b) => (b.credits > a.credits ? b : a));
  };
  const limit = opts.events;
  let first = true;
  while (events.length < limit) {
    const m = pick()!;
    const vm = m.info.vm;
    schedule(current, vm, first ? 'start' : current >= 0 && models[current]!.blocked ? 'halt' : 'quantum');
    first = false;
    current = vm;
    if (m.info.paging === 'shadow' && m.shadowPd < 0) {
      tick += 200;
      m.shadowPd = frame('shadow', vm);
      m.protectedTables.add(GUEST_PD);
      emit(vm, 'shadow', { op: 'write-protect', linear: GUEST_PD, guestPte: GUEST_PD | P | W | A, shadowPte: (hostFrameOf(m, 1) << 12) | P | A, guestTable: GUEST_PD });
    }
    enter(m, 400);
    const quantumEnd = tick + 60_000 + r(30_000);
    let halted = false;
    while (tick < quantumEnd && events.length < limit) {
      const burst = 800 + r(6000);
      tick += burst;
      m.ran += burst;
      m.eip = 0x100000 + r(0x3000);
      const what = r(100);
      const lin = PAGES[r(PAGES.length)]!;
      if (what < 45) {
        // A memory access: it exits only when the hypervisor has not mapped the page yet.
        if (m.info.paging === 'shadow' && !m.shadow.has(lin)) shadowFault(m, lin, r(2) === 0);
        else if (m.info.paging === 'nested' && !m.ept.has(guestFrameOf(lin))) eptViolation(m, lin);
        else tick += 100;
      } else if (what < 55) {
        const c = exit(m, 'IO_INSTRUCTION', { qualification: 0x3f8 << 16, instructionLength: 1 });
        emit(vm, 'console', { device: 'serial', text: `${m.info.name}: line ${++m.line}\n` });
        enter(m, c);
      } else if (what < 62) {
        const c = exit(m, 'CR_ACCESS', { qualification: 3, instructionLength: 3 });
        if (m.info.paging === 'shadow') {
          // The hypervisor's root cache missed (the synthetic guest has one address space, and its
          // shadow is rebuilt): a flush naming the CR3, as src/hypervisor/shadow.ts emits it.
          emit(vm, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0, guestTable: GUEST_PD });
          m.shadow.clear();
        }
        enter(m, c);
      } else if (what < 68 && m.info.paging === 'shadow' && m.shadow.has(lin)) {
        const c = exit(m, 'INVLPG', { qualification: lin, guestLinear: lin, instructionLength: 3 });
        m.shadow.delete(lin);
        emit(vm, 'shadow', { op: 'invalidate', linear: lin, guestPte: gpte(m, lin), shadowPte: 0 });
        enter(m, c);
      } else if (what < 76) {
        enter(m, exit(m, 'CPUID', { instructionLength: 2 }));
      } else if (what < 82) {
        enter(m, exit(m, 'EXTERNAL_INTERRUPT', { qualification: 0x20 }), 0x20);
      } else if (what < 85 && models.filter((o) => !o.blocked && !o.exited).length > 1) {
        const c = exit(m, 'HLT', { instructionLength: 1 });
        emit(vm, 'halt', { eip: m.eip });
        tick += c;
        m.blocked = true;
        halted = true;
        break;
      } else {
        tick += 200;
      }
    }
    const used = m.ran;
    m.credits -= Math.round(used / 1000);
    m.ran = 0;
    if (!halted && events.length < limit) tick += exit(m, 'PREEMPTION_TIMER');
    // A blocked VM's timer fires while another runs: it becomes runnable again.
    for (const o of models) if (o !== m && o.blocked) { o.blocked = false; schedule(-1, o.info.vm, 'wake'); }
  }
  return { info, events };
}
