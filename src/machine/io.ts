// The port I/O bus. Each device registers its own ports (as in v86); a lookup is one array read.
// Unclaimed ports read all ones (an ISA bus with nothing driving it) and writes vanish; both are
// counted so tests and the UI can spot a guest poking at hardware we do not have.
import type { IoBus, PortHandler } from './bus.ts';
import type { Emitter } from '../trace/emitter.ts';
import { KIND_BIT } from '../trace/schema.ts';

const PORTS = 0x10000;
const ONES = [0, 0xff, 0xffff, 0, 0xffffffff] as const;

export class PortBus implements IoBus {
  /** Accesses to ports no device claimed (reads and writes). */
  unclaimedAccesses = 0;
  private readonly handlers: (PortHandler | undefined)[] = new Array(PORTS).fill(undefined);
  private readonly owners: (string | undefined)[] = new Array(PORTS).fill(undefined);

  constructor(private readonly emitter?: Emitter) {}

  register(firstPort: number, count: number, handler: PortHandler, owner: string): void {
    for (let p = firstPort; p < firstPort + count; p++) {
      const prev = this.owners[p & 0xffff];
      if (prev !== undefined && prev !== owner) {
        throw new Error(`port 0x${p.toString(16)} claimed by both ${prev} and ${owner}`);
      }
      this.handlers[p & 0xffff] = handler;
      this.owners[p & 0xffff] = owner;
    }
  }

  /** Which device owns a port (for the UI and error messages). */
  ownerOf(port: number): string | undefined {
    return this.owners[port & 0xffff];
  }

  read(port: number, size: 1 | 2 | 4): number {
    port &= 0xffff;
    const h = this.handlers[port];
    let value: number;
    if (h === undefined) {
      this.unclaimedAccesses++;
      value = ONES[size];
    } else {
      value = h.read(port, size) >>> 0;
    }
    if (this.emitter !== undefined && (this.emitter.mask & KIND_BIT.io) !== 0) {
      this.emitter.emit('io', { port, size, value, dir: 'in' });
    }
    return value;
  }

  write(port: number, size: 1 | 2 | 4, value: number): void {
    port &= 0xffff;
    value = size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value >>> 0;
    if (this.emitter !== undefined && (this.emitter.mask & KIND_BIT.io) !== 0) {
      this.emitter.emit('io', { port, size, value, dir: 'out' });
    }
    const h = this.handlers[port];
    if (h === undefined) {
      this.unclaimedAccesses++;
      return;
    }
    h.write(port, size, value);
  }
}

/**
 * Builds a PortHandler for a byte-wide device from two functions. Wider accesses are split into
 * consecutive byte accesses, which is what the ISA bus does for 8-bit devices.
 */
export function byteDevice(read8: (port: number) => number, write8: (port: number, value: number) => void): PortHandler {
  return {
    read(port, size) {
      let v = 0;
      for (let i = 0; i < size; i++) v |= (read8((port + i) & 0xffff) & 0xff) << (8 * i);
      return v >>> 0;
    },
    write(port, size, value) {
      for (let i = 0; i < size; i++) write8((port + i) & 0xffff, (value >>> (8 * i)) & 0xff);
    },
  };
}
