// The last few machine snapshots (.vzs files saved or opened), kept in the browser's storage
// (IndexedDB: a snapshot is binary and may be a few MB, too big for localStorage) and listed in the
// Snapshot menu. Without IndexedDB (some private modes) the list lives only as long as the page.
export interface SnapshotEntry {
  id: number;
  name: string;
  summary: string;
  /** Milliseconds since the epoch (shown as a time). */
  savedAt: number;
  size: number;
}

interface Stored extends SnapshotEntry {
  bytes: Uint8Array;
}

const DB = 'vizor-snapshots';
const STORE = 'snapshots';
/** How many snapshots are kept. */
export const KEEP = 5;

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

export class SnapshotStore {
  recent = $state.raw<SnapshotEntry[]>([]);
  private memory: Stored[] = [];
  private db: Promise<IDBDatabase | null>;

  constructor(private readonly idb: IDBFactory | null = globalThis.indexedDB ?? null) {
    this.db = this.open();
    void this.refresh();
  }

  private open(): Promise<IDBDatabase | null> {
    if (!this.idb) return Promise.resolve(null);
    return new Promise((resolve) => {
      try {
        const r = this.idb!.open(DB, 1);
        r.onupgradeneeded = () => r.result.createObjectStore(STORE, { keyPath: 'id' });
        r.onsuccess = () => resolve(r.result);
        r.onerror = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
  }

  private async all(): Promise<Stored[]> {
    const db = await this.db;
    if (!db) return this.memory.slice();
    return request(db.transaction(STORE, 'readonly').objectStore(STORE).getAll() as IDBRequest<Stored[]>);
  }

  private async refresh(): Promise<void> {
    const list = (await this.all()).sort((a, b) => b.savedAt - a.savedAt || b.id - a.id);
    this.recent = list.map(({ bytes: _b, ...entry }) => entry);
  }

  /** Keeps a snapshot (the oldest beyond KEEP are dropped). */
  async add(name: string, summary: string, bytes: Uint8Array): Promise<void> {
    const entry: Stored = { id: Date.now() * 1000 + Math.floor(Math.random() * 1000), name, summary, savedAt: Date.now(), size: bytes.length, bytes: bytes.slice() };
    const db = await this.db;
    const old = (await this.all()).sort((a, b) => b.savedAt - a.savedAt || b.id - a.id).slice(KEEP - 1);
    if (!db) {
      this.memory = [entry, ...this.memory.filter((m) => !old.includes(m))];
    } else {
      const tx = db.transaction(STORE, 'readwrite');
      const store = tx.objectStore(STORE);
      store.put(entry);
      for (const o of old) store.delete(o.id);
      await new Promise<void>((resolve, reject) => {
        tx.oncomplete = () => resolve();
        tx.onerror = () => reject(tx.error ?? new Error('could not keep the snapshot'));
      });
    }
    await this.refresh();
  }

  async bytes(id: number): Promise<Uint8Array | null> {
    const db = await this.db;
    if (!db) return this.memory.find((m) => m.id === id)?.bytes ?? null;
    const s = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(id) as IDBRequest<Stored | undefined>);
    return s?.bytes ?? null;
  }
}
