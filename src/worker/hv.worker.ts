// The hypervisor-run worker: one whole run at a time (see hv-run.ts).
import { runUnderHypervisor, type HvRunReply, type HvRunRequest } from './hv-run.ts';

const scope = self as unknown as {
  postMessage(msg: HvRunReply): void;
  onmessage: ((ev: MessageEvent<HvRunRequest>) => void) | null;
};

scope.onmessage = (ev) => scope.postMessage(runUnderHypervisor(ev.data));
