// The Snapshot menu's actions: save the machine (the focused VM under the hypervisor) to a .vzs
// download, open one, reopen a recent one; each saved or opened snapshot joins the recent list.
// A refused file leaves the session as it was and says why.
import { downloadFile } from '../download.ts';
import type { MachineConfig } from '../../worker/protocol.ts';
import type { Session } from './session.svelte.ts';
import type { Settings } from './settings.svelte.ts';
import { SnapshotStore, type SnapshotEntry } from './snapshots.svelte.ts';

export class SnapshotMenu {
  readonly store = new SnapshotStore();

  /** `restored`: called with the machine settings a snapshot brought (the app may switch panels). */
  constructor(private readonly session: Session, private readonly settings: Settings, private readonly restored: (config: MachineConfig) => void = () => {}) {}

  async save(): Promise<void> {
    const session = this.session;
    if (session.state === 'running') session.pause();
    const r = await session.saveSnapshot();
    if (!r.ok) { session.error = `Cannot save a snapshot: ${r.error}`; return; }
    downloadFile(r.name, r.bytes as BlobPart, 'application/octet-stream');
    session.message = `saved ${r.name} (${Math.max(1, Math.round(r.bytes.length / 1024))} KiB): ${r.summary}`;
    await this.store.add(r.name, r.summary, r.bytes);
  }

  async open(name: string, bytes: Uint8Array, remember = true): Promise<void> {
    const session = this.session;
    if (session.state === 'running') session.pause();
    const r = await session.openSnapshot(name, bytes, $state.snapshot(this.settings.machine));
    if (!r.ok) {
      session.error = `Snapshot not restored: ${r.error}. The current session goes on unchanged.`;
      return;
    }
    this.settings.machine = r.config;
    this.settings.save();
    this.restored(r.config);
    if (remember) await this.store.add(name, r.summary, bytes);
  }

  async openRecent(entry: SnapshotEntry): Promise<void> {
    const bytes = await this.store.bytes(entry.id);
    if (!bytes) { this.session.error = `${entry.name} is no longer in this browser's storage`; return; }
    await this.open(entry.name, bytes, false);
  }
}
