// User settings that outlive a page load: theme, presenter mode, speed, machine configuration.
import type { MachineConfig, SpeedSetting } from '../../worker/protocol.ts';
import { BARE, normaliseHv } from '../lessons/hv-config.ts';

export type ThemeChoice = 'system' | 'light' | 'dark';

const KEY = 'vizor.settings.v1';

/** Speed slider positions: 1 = one instruction per second (animated) … the last = full speed. */
export const SPEEDS: { label: string; speed: SpeedSetting }[] = [
  { label: '1 instr/s', speed: { kind: 'animate', instructionsPerSecond: 1 } },
  { label: '4 instr/s', speed: { kind: 'animate', instructionsPerSecond: 4 } },
  { label: '20 instr/s', speed: { kind: 'animate', instructionsPerSecond: 20 } },
  { label: '100 instr/s', speed: { kind: 'animate', instructionsPerSecond: 100 } },
  { label: 'full speed', speed: { kind: 'full' } },
];

interface Stored {
  theme: ThemeChoice;
  presenter: boolean;
  speedIndex: number;
  machine: MachineConfig;
  /** The bottom panel enlarged over the editor and the right-hand column (Ctrl+Shift+M). */
  panelEnlarged?: boolean;
  /** The hypervisor banner cut down to one line. */
  bannerShort?: boolean;
}

export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export class Settings {
  theme = $state<ThemeChoice>('system');
  presenter = $state(false);
  speedIndex = $state(SPEEDS.length - 1);
  panelEnlarged = $state(false);
  bannerShort = $state(false);
  machine = $state<MachineConfig>({ memoryMiB: 32, boot: { kind: 'multiboot' }, hv: { ...BARE } });
  /** What the system prefers (prefers-color-scheme), kept current by the app. */
  systemDark = $state(false);

  readonly dark = $derived(this.theme === 'dark' || (this.theme === 'system' && this.systemDark));
  readonly speed = $derived(SPEEDS[this.speedIndex].speed);

  constructor(private readonly storage: StorageLike | null = null) {
    const raw = storage?.getItem(KEY);
    if (!raw) return;
    try {
      const s = JSON.parse(raw) as Partial<Stored>;
      if (s.theme === 'light' || s.theme === 'dark' || s.theme === 'system') this.theme = s.theme;
      if (typeof s.presenter === 'boolean') this.presenter = s.presenter;
      if (typeof s.panelEnlarged === 'boolean') this.panelEnlarged = s.panelEnlarged;
      if (typeof s.bannerShort === 'boolean') this.bannerShort = s.bannerShort;
      if (typeof s.speedIndex === 'number' && s.speedIndex >= 0 && s.speedIndex < SPEEDS.length) this.speedIndex = s.speedIndex;
      if (s.machine && typeof s.machine.memoryMiB === 'number') this.machine = { ...s.machine, hv: normaliseHv(s.machine.hv) };
    } catch {
      // A damaged entry is ignored: defaults are fine.
    }
  }

  /** Cycles system → light → dark → system. */
  toggleTheme(): void {
    this.theme = this.theme === 'system' ? (this.systemDark ? 'light' : 'dark') : this.theme === 'light' ? 'dark' : 'light';
    this.save();
  }

  /** Enlarges the bottom panel or restores it. */
  togglePanel(): void {
    this.panelEnlarged = !this.panelEnlarged;
    this.save();
  }

  save(): void {
    const s: Stored = { theme: this.theme, presenter: this.presenter, speedIndex: this.speedIndex, machine: $state.snapshot(this.machine),
      panelEnlarged: this.panelEnlarged, bannerShort: this.bannerShort };
    this.storage?.setItem(KEY, JSON.stringify(s));
  }
}
