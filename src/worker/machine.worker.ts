// The Web Worker entry: one MachineHost per worker. Scheduling uses a MessageChannel for zero-delay
// turns (setTimeout(0) is clamped to 4 ms after a few nested calls), so a full-speed run yields
// to incoming messages between slices without losing time.
import { realCore } from './core.ts';
import { MachineHost, type Schedule } from './host.ts';
import type { Request, WorkerMessage } from './protocol.ts';

const scope = self as unknown as {
  postMessage(msg: WorkerMessage, transfer?: Transferable[]): void;
  onmessage: ((ev: MessageEvent<Request>) => void) | null;
};

const channel = new MessageChannel();
const queue: (() => void)[] = [];
channel.port1.onmessage = () => queue.shift()?.();
const schedule: Schedule = (fn, delayMs) => {
  if (delayMs > 0) {
    setTimeout(fn, delayMs);
    return;
  }
  queue.push(fn);
  channel.port2.postMessage(0);
};

const host = new MachineHost(realCore(), (msg, transfer) => scope.postMessage(msg, transfer ?? []), schedule);
scope.onmessage = (ev) => host.handle(ev.data);
