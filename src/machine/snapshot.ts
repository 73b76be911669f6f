// The whole machine's state as plain data: CPU, RAM pages, every device, virtual time.
// Restoring one and running on gives byte-identical output (the debugger's reverse step rests on it).
import type { MemorySnapshot } from './memory.ts';
import type { PicState } from './devices/pic.ts';
import type { PitState } from './devices/pit.ts';
import type { UartState } from './devices/uart16550.ts';
import type { CmosState } from './devices/cmos.ts';
import type { Ps2State } from './devices/ps2.ts';
import type { VgaState } from './devices/vga-text.ts';

export const MACHINE_SNAPSHOT_VERSION = 1;

export interface MachineSnapshot {
  version: number;
  cpu: unknown;
  memory: MemorySnapshot;
  idleNs: number;
  a20: boolean;
  eventSeq: number;
  devices: {
    pic: PicState; pit: PitState; uart: UartState; cmos: CmosState; ps2: Ps2State; vga: VgaState;
    port92: number; post: { last: number; count: number };
    disk: { lastStatus: number; disk: Uint8Array | null } | null;
  };
}
