// The UI's handle on the machine worker: sends requests, matches replies to them by id, and
// fans notices (stops, frames, console text, event batches) out to listeners.
import type { Notice, Reply, Request, WorkerMessage } from '../../worker/protocol.ts';

type WithoutId<T> = T extends { id: number } ? Omit<T, 'id'> : never;
type RequestWithId = Extract<Request, { id: number }>;
type ReplyFor<R extends RequestWithId['type']> = {
  assemble: Extract<Reply, { type: 'assembled' }>;
  load: Extract<Reply, { type: 'loaded' }>;
  'load-image': Extract<Reply, { type: 'loaded' }>;
  read: Extract<Reply, { type: 'memory' }>;
  translate: Extract<Reply, { type: 'translation' }>;
  tlb: Extract<Reply, { type: 'tlb' }>;
  'save-snapshot': Extract<Reply, { type: 'snapshot-saved' }>;
  'open-snapshot': Extract<Reply, { type: 'snapshot-opened' }>;
}[R];

/** The part of a Worker the client uses (a real Worker, or a MessagePort-like stand-in in tests). */
export interface WorkerLike {
  postMessage(msg: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<WorkerMessage>) => void): void;
  terminate?(): void;
}

export class MachineClient {
  private nextId = 1;
  private pending = new Map<number, (r: Reply) => void>();
  private listeners = new Set<(n: Notice) => void>();

  constructor(private readonly worker: WorkerLike) {
    worker.addEventListener('message', (ev) => this.receive(ev.data));
  }

  /** Fire-and-forget requests (run, step, pause, settings...). */
  send(req: Exclude<Request, { id: number }>): void {
    this.worker.postMessage(req);
  }

  /** Requests that get an answer. */
  request<T extends RequestWithId['type']>(req: { type: T } & WithoutId<Extract<RequestWithId, { type: T }>>): Promise<ReplyFor<T>> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve as (r: Reply) => void);
      this.worker.postMessage({ ...req, id });
    });
  }

  onNotice(fn: (n: Notice) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  terminate(): void {
    this.worker.terminate?.();
  }

  private receive(msg: WorkerMessage): void {
    if ('id' in msg) {
      const resolve = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      resolve?.(msg);
      return;
    }
    for (const l of this.listeners) l(msg);
  }
}
