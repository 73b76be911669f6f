// A whole run of the project's kernel under vizor's hypervisor (src/hypervisor), off the page's
// thread: every VM boots the same image with the chosen techniques, and the run's events (each
// VM's serial output among them) come back for the event log. Stepping under the hypervisor is
// the debugger engine's hypervisor mode (engine.ts), not this.
import { Emitter } from '../trace/emitter.ts';
import { EVENT_KINDS, maskOf, type EventKind, type TraceEvent } from '../trace/schema.ts';
import { hypervisorRunner } from '../lessons/hv-runner.ts';
import type { VmEnd } from '../lessons/runner.ts';
import { realCore, type BootMode } from './core.ts';
import type { MachineConfig, SourceFile } from './protocol.ts';

export interface HvRunRequest {
  id: number;
  files: SourceFile[];
  main: string;
  config: MachineConfig;
  maxInstructions: number;
}

export type HvRunReply =
  | { id: number; ok: true; serial: string[]; ends: VmEnd[]; events: TraceEvent[]; truncated: boolean; kinds: Partial<Record<EventKind, number>> }
  | { id: number; ok: false; error: string };

/** At most this many events come back (the counts by kind are always complete). */
export const HV_EVENT_LIMIT = 200_000;

function bootOf(config: MachineConfig): BootMode {
  const b = config.boot;
  return b.kind === 'flat' ? { kind: 'flat', address: b.address } : b.kind === 'boot-sector' ? { kind: 'boot-sector' } : { kind: 'multiboot', cmdline: '' };
}

export function runUnderHypervisor(req: HvRunRequest): HvRunReply {
  const hv = req.config.hv;
  if (!hv || hv.mode !== 'hypervisor') return { id: req.id, ok: false, error: 'the machine settings say "bare machine"' };
  const built = realCore().assemble(req.files, req.main);
  const firstError = built.diagnostics.find((d) => d.severity === 'error');
  if (!built.bytes || firstError) {
    return { id: req.id, ok: false, error: firstError ? `${firstError.file}:${firstError.line}:${firstError.column}: ${firstError.message}` : 'the program did not assemble' };
  }
  const emitter = new Emitter();
  const events: TraceEvent[] = [];
  const kinds: Partial<Record<EventKind, number>> = {};
  const serial: string[] = Array.from({ length: hv.vms }, () => '');
  let truncated = false;
  emitter.listen({
    mask: maskOf(EVENT_KINDS),
    onEvent: (ev) => {
      kinds[ev.kind] = (kinds[ev.kind] ?? 0) + 1;
      if (ev.kind === 'console' && ev.device === 'serial' && ev.vm >= 0 && ev.vm < serial.length) serial[ev.vm] += ev.text;
      if (events.length < HV_EVENT_LIMIT) events.push(ev);
      else truncated = true;
    },
  });
  try {
    const image = built.bytes;
    const result = hypervisorRunner({
      settings: { cpu: hv.cpu, paging: hv.paging, sched: hv.sched },
      vms: Array.from({ length: hv.vms }, (_, i) => ({ name: `vm${i}`, image, boot: bootOf(req.config), memoryBytes: req.config.memoryMiB * 1048576 })),
      maxInstructions: req.maxInstructions,
      emitter,
    });
    return { id: req.id, ok: true, serial, ends: result.vms, events, truncated, kinds };
  } catch (err) {
    return { id: req.id, ok: false, error: `the hypervisor could not run it: ${(err as Error)?.message ?? String(err)}` };
  }
}
