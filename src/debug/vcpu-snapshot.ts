// Whole-host snapshots for the vCPU debug target (vcpu-target.ts): host memory (every VM's RAM and
// the VMM's shadow/nested tables, incrementally, as Machine snapshots do), the frame allocator,
// the hypervisor's clock and scheduler, and per VM its CPU, devices, p2m, paging bookkeeping,
// statistics and run state, plus the event sequence number. Restoring one makes the host exactly
// what it was, so deterministic replay from it gives the same run (the engine's reverse execution).
//
// The hypervisor has no snapshot of its own yet: its objects' plain-data fields (numbers, strings,
// typed arrays, and maps, sets, arrays and plain objects of those) are copied generically, and
// fields holding other objects (references to the host, the CPU, devices) are left alone: each of
// those is captured through its own saveState/saveSnapshot here.
import type { Hypervisor } from '../hypervisor/hypervisor.ts';
import type { Vm } from '../hypervisor/vm.ts';
import type { MemorySnapshot } from '../machine/memory.ts';

type Fields = Record<string, unknown>;

/** True for data that structuredClone copies faithfully (no class instances inside). */
function plain(v: unknown, depth = 0): boolean {
  if (v === null || typeof v !== 'object') return typeof v !== 'function' && typeof v !== 'symbol';
  if (depth > 6) return false;
  if (ArrayBuffer.isView(v)) return true;
  if (Array.isArray(v)) return v.every((x) => plain(x, depth + 1));
  if (v instanceof Map) return [...v].every(([k, x]) => plain(k, depth + 1) && plain(x, depth + 1));
  if (v instanceof Set) return [...v].every((x) => plain(x, depth + 1));
  if (Object.getPrototypeOf(v) !== Object.prototype) return false;
  return Object.values(v).every((x) => plain(x, depth + 1));
}

function captureFields(o: object): Fields {
  const out: Fields = {};
  for (const [k, v] of Object.entries(o)) if (plain(v)) out[k] = structuredClone(v);
  return out;
}

function restoreFields(o: object, f: Fields): void {
  const target = o as Fields;
  for (const [k, v] of Object.entries(f)) target[k] = structuredClone(v);
}

// The CPU's TLB is part of its snapshot (src/machine/cpu/snapshot.ts): under the hypervisor a TLB
// miss is modelled work (a shadow or nested walk costs host cycles), so a cold TLB after a restore
// would shift the host clock, and with it the schedule.

interface VmSnapshot {
  cpu: unknown;
  devices: { pic: unknown; pit: unknown; uart: unknown; cmos: unknown; ps2: unknown; vga: unknown; port92: number; post: { last: number; count: number } };
  vm: Fields;
  gmem: Fields;
  vcpu: Fields;
  paging: Fields;
  stats: Fields;
}

export interface HostSnapshot {
  memory: MemorySnapshot;
  host: Fields;
  frames: Fields;
  scheduler: Fields;
  eventSeq: number;
  emitterVm: number;
  emitterVcpu: number;
  vms: VmSnapshot[];
  /** The debug target's own loop state (vcpu-target.ts). */
  loop: unknown;
}

function captureVm(vm: Vm): VmSnapshot {
  if (vm.vcpu.pending !== null) throw new Error(`${vm.name}: a snapshot must be taken between instructions (an exit is half-handled)`);
  return {
    cpu: vm.cpu.saveSnapshot(),
    devices: {
      pic: vm.pic.saveState(), pit: vm.pit.saveState(), uart: vm.uart.saveState(), cmos: vm.cmos.saveState(),
      ps2: vm.ps2.saveState(), vga: vm.vga.saveState(), port92: vm.port92.value,
      post: { last: vm.post.last, count: vm.post.count },
    },
    vm: captureFields(vm),
    gmem: captureFields(vm.gmem),
    vcpu: captureFields(vm.vcpu),
    paging: captureFields(vm.paging),
    stats: captureFields(vm.stats),
  };
}

function restoreVm(vm: Vm, s: VmSnapshot): void {
  restoreFields(vm, s.vm);
  restoreFields(vm.gmem, s.gmem);
  restoreFields(vm.vcpu, s.vcpu);
  restoreFields(vm.paging, s.paging);
  restoreFields(vm.stats, s.stats);
  vm.cpu.loadSnapshot(s.cpu);
  const d = s.devices as { pic: never; pit: never; uart: never; cmos: never; ps2: never; vga: never; port92: number; post: { last: number; count: number } };
  vm.pit.loadState(d.pit);
  vm.uart.loadState(d.uart);
  vm.cmos.loadState(d.cmos);
  vm.ps2.loadState(d.ps2);
  vm.vga.loadState(d.vga);
  vm.port92.value = d.port92;
  vm.post.last = d.post.last;
  vm.post.count = d.post.count;
  vm.pic.loadState(d.pic); // last: its onChange tells the CPU to look for a pending interrupt
}

export function captureHost(hv: Hypervisor, loop: unknown): HostSnapshot {
  return {
    memory: hv.memory.saveSnapshot(),
    host: captureFields(hv),
    frames: captureFields(hv.frames),
    scheduler: captureFields(hv.scheduler),
    eventSeq: hv.emitter.nextSeq,
    emitterVm: hv.emitter.vm,
    emitterVcpu: hv.emitter.vcpu,
    vms: hv.vms.map(captureVm),
    loop: structuredClone(loop),
  };
}

/** Puts the host back; returns the target's loop state as it was saved. */
export function restoreHost(hv: Hypervisor, s: HostSnapshot): unknown {
  if (s.vms.length !== hv.vms.length) throw new Error(`snapshot of ${s.vms.length} VMs, the host has ${hv.vms.length}`);
  hv.memory.loadSnapshot(s.memory);
  restoreFields(hv, s.host);
  restoreFields(hv.frames, s.frames);
  restoreFields(hv.scheduler, s.scheduler);
  hv.vms.forEach((vm, i) => restoreVm(vm, s.vms[i]!));
  // After the CPUs' loads (their TLB flushes emit events): the stream goes on from the snapshot.
  hv.emitter.nextSeq = s.eventSeq;
  hv.emitter.vm = s.emitterVm;
  hv.emitter.vcpu = s.emitterVcpu;
  return structuredClone(s.loop);
}
