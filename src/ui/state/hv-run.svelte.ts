// Whole runs under vizor's hypervisor, in their own worker: the last run's result (each VM's serial
// output and how it ended, the events) for the VMs tab and the event log.
import type { HvRunReply, HvRunRequest } from '../../worker/hv-run.ts';

export interface HvWorkerLike {
  postMessage(msg: HvRunRequest): void;
  addEventListener(type: 'message', fn: (ev: MessageEvent<HvRunReply>) => void): void;
}

export class HvRun {
  running = $state(false);
  result = $state.raw<Extract<HvRunReply, { ok: true }> | null>(null);
  error = $state('');
  /** What ran, in words ("hypervisor: 3 VMs, cpu=vtx, ..."). */
  setting = $state('');
  private worker: HvWorkerLike | null = null;
  private nextId = 1;

  constructor(private readonly makeWorker: () => HvWorkerLike) {}

  run(req: Omit<HvRunRequest, 'id'>, setting: string): Promise<HvRunReply> {
    if (!this.worker) this.worker = this.makeWorker();
    const id = this.nextId++;
    this.running = true;
    this.error = '';
    this.setting = setting;
    const worker = this.worker;
    return new Promise((resolve) => {
      const onMessage = (ev: MessageEvent<HvRunReply>) => {
        if (ev.data.id !== id) return;
        this.running = false;
        if (ev.data.ok) this.result = ev.data;
        else this.error = ev.data.error;
        resolve(ev.data);
      };
      worker.addEventListener('message', onMessage);
      worker.postMessage({ ...req, id });
    });
  }
}
