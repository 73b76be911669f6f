// Contracts between the CPU (cpu/, mmu, memory) and the rest of the PC (io bus, devices, boot, machine.ts).
// Kept small on purpose: the CPU never imports a device, a device never imports the CPU.

/** A device's handler for the ports it registered. `size` is 1, 2 or 4 bytes. */
export interface PortHandler {
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

/** The port I/O bus: each device registers its own ports (as in v86). Unclaimed reads return all ones. */
export interface IoBus {
  register(firstPort: number, count: number, handler: PortHandler, owner: string): void;
  read(port: number, size: 1 | 2 | 4): number;
  write(port: number, size: 1 | 2 | 4, value: number): void;
}

/** A memory-mapped device range (e.g. the VGA text buffer at 0xB8000 when it needs side effects). */
export interface MmioHandler {
  read(addr: number, size: 1 | 2 | 4): number;
  write(addr: number, size: 1 | 2 | 4, value: number): void;
}

/** The interrupt controller as the CPU sees it (the 8259A pair): INTR line plus INTA. */
export interface InterruptController {
  /** True when the controller asserts INTR (an unmasked IRQ is pending). */
  hasInterrupt(): boolean;
  /** The INTA cycle: returns the vector of the highest-priority pending IRQ and marks it in service. */
  acknowledge(): number;
}

/** Why `Cpu.run` returned. */
export type StopReason =
  | 'budget' // executed the requested number of instructions
  | 'halt' // HLT with interrupts disabled or nothing pending: waiting
  | 'shutdown' // triple fault
  | 'stop'; // someone called requestStop() (debug-exit port, debugger, UI)
