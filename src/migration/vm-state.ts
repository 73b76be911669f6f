// A VM's whole state as plain data, taken through the hypervisor's public surface: the vCPU
// (registers and internal latches), every backed guest page that is not all zeros, the virtual
// devices (PIC with its pending IRQs, PIT, UART, CMOS, PS/2, VGA, port 0x92, POST) and the VM's
// own clock. The VMM's derived state (shadow or nested tables, TLB, decoded code) is not saved:
// it is rebuilt on demand after a restore, so a snapshot taken under shadow paging can resume
// under nested paging and vice versa.
import type { Vm } from '../hypervisor/index.ts';
import type { PicState } from '../machine/devices/pic.ts';
import type { PitState } from '../machine/devices/pit.ts';
import type { UartState } from '../machine/devices/uart16550.ts';
import type { CmosState } from '../machine/devices/cmos.ts';
import type { Ps2State } from '../machine/devices/ps2.ts';
import type { VgaState } from '../machine/devices/vga-text.ts';

export const VM_STATE_VERSION = 1;

/** Everything but guest RAM: what stop-and-copy sends besides the last dirty pages. */
export interface VmCpuDeviceState {
  version: number;
  cpu: unknown;
  devices: { pic: PicState; pit: PitState; uart: UartState; cmos: CmosState; ps2: Ps2State; vga: VgaState; port92: number; post: { last: number; count: number } };
  idleNs: number;
  a20Mask: number;
  pendingExitCode: number | null;
  pendingReset: boolean;
  idleSkips: number;
  lastHaltInstructions: number;
}

export interface VmState extends VmCpuDeviceState {
  /** Guest pages (gfn → 4096 bytes) that are backed and not all zeros. */
  pages: Map<number, Uint8Array>;
}

export function captureCpuDevices(vm: Vm): VmCpuDeviceState {
  if (vm.vcpu.pending !== null) throw new Error('a VM snapshot must be taken between instructions (an exit is half-handled)');
  return {
    version: VM_STATE_VERSION,
    cpu: vm.cpu.saveSnapshot(),
    devices: {
      pic: vm.pic.saveState(), pit: vm.pit.saveState(), uart: vm.uart.saveState(), cmos: vm.cmos.saveState(),
      ps2: vm.ps2.saveState(), vga: vm.vga.saveState(), port92: vm.port92.value,
      post: { last: vm.post.last, count: vm.post.count },
    },
    idleNs: vm.idleNs,
    a20Mask: vm.a20Mask,
    pendingExitCode: vm.pendingExitCode,
    pendingReset: vm.pendingReset,
    idleSkips: vm.idleSkips,
    lastHaltInstructions: vm.lastHaltInstructions,
  };
}

/** Host address of guest page `gfn` if backed, else -1. */
export function pageFrame(vm: Vm, gfn: number): number {
  const f = vm.gmem.p2m[gfn]!;
  return f === 0 ? -1 : f << 12;
}

export function isZeroPage(ram: Uint8Array, base: number): boolean {
  for (let k = 0; k < 4096; k++) if (ram[base + k] !== 0) return false;
  return true;
}

export function capturePages(vm: Vm): Map<number, Uint8Array> {
  const pages = new Map<number, Uint8Array>();
  const ram = vm.gmem.memory.ram;
  for (let g = 0; g < vm.gmem.pages; g++) {
    const base = pageFrame(vm, g);
    if (base >= 0 && !isZeroPage(ram, base)) pages.set(g, ram.slice(base, base + 4096));
  }
  return pages;
}

export function captureVm(vm: Vm): VmState {
  return { ...captureCpuDevices(vm), pages: capturePages(vm) };
}

/** Loads CPU, devices and clock into `vm` (a VM built from the same image, not run yet or paused). */
export function restoreCpuDevices(vm: Vm, s: VmCpuDeviceState): void {
  if (s.version !== VM_STATE_VERSION) throw new Error(`VM state version ${s.version}, expected ${VM_STATE_VERSION}`);
  const d = s.devices;
  vm.cpu.loadSnapshot(s.cpu);
  vm.pit.loadState(d.pit);
  vm.uart.loadState(d.uart);
  vm.cmos.loadState(d.cmos);
  vm.ps2.loadState(d.ps2);
  vm.vga.loadState(d.vga);
  vm.port92.value = d.port92;
  vm.post.last = d.post.last;
  vm.post.count = d.post.count;
  vm.idleNs = s.idleNs;
  vm.a20Mask = s.a20Mask;
  vm.pendingExitCode = s.pendingExitCode;
  vm.pendingReset = s.pendingReset;
  vm.idleSkips = s.idleSkips;
  vm.lastHaltInstructions = s.lastHaltInstructions;
  vm.state = 'runnable';
  vm.pic.loadState(d.pic); // last: its onChange tells the CPU to look for a pending interrupt
  forgetDerivedState(vm);
}

/** The VMM's tables and the vCPU's TLB were built for other contents: rebuild them on demand. */
export function forgetDerivedState(vm: Vm): void {
  vm.paging.pagingModeChanged(vm.cpu);
  vm.cpu.flushTlb();
  vm.cpu.interruptCheck();
}

/** Writes guest page `gfn` (backing it if needed). */
export function writePage(vm: Vm, gfn: number, bytes: Uint8Array): void {
  vm.gmem.writeBytes(gfn << 12, bytes);
}

export function restoreVm(vm: Vm, s: VmState): void {
  const ram = vm.gmem.memory.ram;
  for (let g = 0; g < vm.gmem.pages; g++) {
    if (s.pages.has(g)) continue;
    const base = pageFrame(vm, g);
    if (base >= 0 && !isZeroPage(ram, base)) writePage(vm, g, new Uint8Array(4096));
  }
  for (const [g, bytes] of s.pages) {
    if (!Number.isInteger(g) || g < 0 || g >= vm.gmem.pages || bytes.length !== 4096) throw new Error(`page ${g} does not fit this VM's memory`);
    writePage(vm, g, bytes);
  }
  restoreCpuDevices(vm, s);
}

/**
 * FNV-1a over the guest-visible contents of every page that is not all zeros (an unbacked page
 * reads as zeros): two VMs with equal checksums hold the same memory, however their frames lie.
 */
export function guestMemoryChecksum(vm: Vm): number {
  let h = 0x811c9dc5;
  const ram = vm.gmem.memory.ram;
  for (let g = 0; g < vm.gmem.pages; g++) {
    const base = pageFrame(vm, g);
    if (base < 0 || isZeroPage(ram, base)) continue;
    h = Math.imul(h ^ g, 0x01000193);
    for (let k = 0; k < 4096; k++) h = Math.imul(h ^ ram[base + k]!, 0x01000193);
  }
  return h >>> 0;
}
