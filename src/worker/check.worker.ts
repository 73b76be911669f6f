// The lesson-check worker: one request at a time, answered with the checker's report.
import { runCheck, type CheckReply, type CheckRequest } from './lesson-check.ts';

const scope = self as unknown as {
  postMessage(msg: CheckReply): void;
  onmessage: ((ev: MessageEvent<CheckRequest>) => void) | null;
};

scope.onmessage = (ev) => scope.postMessage(runCheck(ev.data));
