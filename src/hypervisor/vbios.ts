// The legacy BIOS inside a VM. The bare machine's BIOS is high-level emulation: its ROM stubs do
// `out 0xE5, al ; iret`, and the OUT to that private trap port makes the machine run the service
// in TypeScript. A VM gets the same BIOS, bound to its own guest-physical memory and devices: the
// stub's OUT is an I/O exit like any other (IO_INSTRUCTION, port 0xE5 in the qualification), and
// the VMM then runs the service for the guest, as a VMM's virtual firmware would (compare
// paravirtual BIOS calls). This is what lets a boot sector, a real-mode program, run in a VM.
import { Bios, type BiosHost } from '../machine/boot/bios.ts';
import type { BiosMemory } from '../machine/boot/bios-context.ts';
import type { CpuStateLike } from '../machine/boot/realmode.ts';
import type { Cpu, CpuState } from '../machine/cpu/cpu.ts';
import type { GuestPhysical } from './p2m.ts';

/** Guest-physical memory as the BIOS services see it (RAM beyond the VM reads as ones, writes vanish). */
export function guestBiosMemory(gmem: GuestPhysical): BiosMemory {
  const host = (p: number) => gmem.hostAddress(p >>> 0);
  const mem = gmem.memory;
  const read = (p: number, size: number): number => {
    let v = 0;
    for (let i = 0; i < size; i++) {
      const h = host(p + i);
      v |= (h < 0 ? 0xff : mem.read8(h)) << (8 * i);
    }
    return v >>> 0;
  };
  const write = (p: number, size: number, v: number): void => {
    for (let i = 0; i < size; i++) {
      const a = (p + i) >>> 0;
      if (a >>> 12 >= gmem.pages) continue;
      const h = host(a);
      if (h >= 0) mem.write8(h, (v >>> (8 * i)) & 0xff);
    }
  };
  return {
    size: gmem.bytes,
    read8: (p) => read(p, 1), read16: (p) => read(p, 2), read32: (p) => read(p, 4),
    write8: (p, v) => write(p, 1, v), write16: (p, v) => write(p, 2, v), write32: (p, v) => write(p, 4, v),
    writeBytes: (p, bytes) => gmem.writeBytes(p >>> 0, bytes),
    readBytes: (p, n) => gmem.readBytes(p >>> 0, n),
  };
}

/** How a BIOS service can end the VM (no keyboard in a VM: a key wait can never end). */
export type BiosEnd = { reason: 'reset' } | { reason: 'halted'; interruptsEnabled: boolean };

export class VirtualBios {
  private readonly bios: Bios;

  /**
   * A BIOS on `host` (the VM's memory and devices) continuing the loader's `from` (its disk and
   * state); `keyPending` says whether the VM's keyboard controller holds a byte.
   */
  constructor(host: BiosHost, from: Bios, private readonly keyPending: () => boolean) {
    this.bios = new Bios(host, from.diskService.disk);
    this.bios.diskService.loadState(from.diskService.saveState());
  }

  /** The VM's vCPU stopped after an OUT to the trap port: run the service if a ROM stub did it. */
  trap(cpu: Cpu): BiosEnd | null {
    const st = cpu.getState();
    const id = this.bios.trapAt(st.cs.base + st.eip);
    if (id < 0) return null; // an OUT to the trap port from outside the ROM: ignored, as on bare metal
    const outcome = this.bios.handle(id, st as CpuStateLike);
    cpu.setState(st as CpuState);
    if (outcome === 'reboot') return { reason: 'reset' };
    if (outcome === 'boot-failed') return { reason: 'halted', interruptsEnabled: false };
    if (outcome === 'wait-key' && !this.keyPending()) return { reason: 'halted', interruptsEnabled: true };
    return null;
  }
}
