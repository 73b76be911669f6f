// The lessons' HvRunner on vizor's hypervisor (src/hypervisor): one Hypervisor per check run, one
// VM per kernel, every event into the check's emitter. Kept apart from runner.ts so that the
// lesson checker itself never depends on the hypervisor being there.
//
// A migration run (req.migrate) has two hosts: every VM boots on host A, the first one runs to
// the migration point with its neighbours, migrates live to host B (src/migration), and all run
// to their end. Host B's events reach the check's emitter too, re-emitted with their VM number:
// the migrating VM is VM 0 on both hosts, so its serial output reads across the move.
import { Hypervisor, type Vm, type VmConfig } from '../hypervisor/index.ts';
import { Emitter } from '../trace/emitter.ts';
import type { TraceEvent } from '../trace/schema.ts';
import { runHostUntilVm } from '../migration/driver.ts';
import { Migration } from '../migration/engine.ts';
import type { HvRunner, HvRunRequest, VmEnd } from './runner.ts';
import type { MigrateSpec, MigrationOutcome } from './types.ts';

function endOf(end: Hypervisor['vms'][number]['end']): VmEnd {
  if (end === null) return { reason: 'instruction-limit' }; // the run's budget ran out first
  switch (end.reason) {
    case 'debug-exit':
      return { reason: 'debug-exit', code: end.code };
    case 'killed':
      return { reason: 'killed', message: end.message };
    default:
      return { reason: end.reason };
  }
}

function configs(req: HvRunRequest): VmConfig[] {
  return req.vms.map((vm) => {
    const config: VmConfig = {
      name: vm.name,
      image: vm.image,
      boot: vm.boot,
      memoryBytes: vm.memoryBytes,
      cpu: req.settings.cpu,
      paging: req.settings.paging,
    };
    if (vm.weight !== undefined) config.weight = vm.weight;
    if (vm.cap !== undefined) config.cap = vm.cap;
    return config;
  });
}

export const hypervisorRunner: HvRunner = (req) => {
  if (req.migrate !== undefined) return migrationRun(req, req.migrate);
  const hv = new Hypervisor({ emitter: req.emitter, sched: req.settings.sched });
  try {
    for (const config of configs(req)) hv.addVm(config);
    hv.run(req.maxInstructions);
    return { vms: hv.vms.map((v) => endOf(v.end)) };
  } finally {
    hv.release();
  }
};

/** Forwards host B's events into the check's emitter (same kinds, same VM numbers). */
function forward(from: Emitter, to: Emitter): void {
  from.listen({
    mask: to.mask,
    onEvent: (ev: TraceEvent) => {
      const { seq: _seq, tick: _tick, vm, vcpu: _vcpu, kind, ...fields } = ev;
      const saved = to.vm;
      to.vm = vm;
      to.emit(kind, fields as never);
      to.vm = saved;
    },
  });
}

function outcome(m: ReturnType<Migration['run']>): MigrationOutcome {
  const o: MigrationOutcome = {
    happened: true, mode: m.mode, switchover: m.switchover,
    rounds: m.rounds.map((r) => ({ pagesSent: r.pagesSent, dirtyAfter: r.dirtyAfter, durationNs: r.durationNs })),
    finalPages: m.finalPages, downtimeNs: m.downtimeNs, pagesSent: m.pagesSent, remoteFaults: m.remoteFaults,
  };
  if (m.sourceChecksum !== undefined) o.sourceChecksum = m.sourceChecksum;
  if (m.destChecksum !== undefined) o.destChecksum = m.destChecksum;
  return o;
}

function migrationRun(req: HvRunRequest, spec: MigrateSpec): ReturnType<HvRunner> {
  const hostB = new Emitter();
  forward(hostB, req.emitter);
  const a = new Hypervisor({ emitter: req.emitter, sched: req.settings.sched });
  const b = new Hypervisor({ emitter: hostB, sched: req.settings.sched });
  try {
    const all = configs(req);
    for (const config of all) a.addVm(config);
    const src = a.vms[0]!;
    let moved: Vm = src;
    let migration: MigrationOutcome;
    const reached = runHostUntilVm(a, src, Math.min(spec.at, req.maxInstructions));
    if (reached === 'ended' || spec.at >= req.maxInstructions) {
      migration = {
        happened: false, mode: spec.mode, rounds: [], finalPages: 0, downtimeNs: 0, pagesSent: 0, remoteFaults: 0,
        why: reached === 'ended'
          ? `the guest ended after ${src.cpu.instructions} instructions, before the migration point (at ${spec.at}): nothing migrated`
          : `the migration point (at ${spec.at}) is beyond the run's maxInstructions (${req.maxInstructions})`,
      };
    } else {
      const m = new Migration(a, src, b, {
        link: { bandwidthBitsPerSecond: spec.bandwidthBitsPerSecond, latencyNs: spec.latencyNs },
        mode: spec.mode,
        ...(spec.maxRounds !== undefined ? { maxRounds: spec.maxRounds } : {}),
        ...(spec.maxDowntimeNs !== undefined ? { maxDowntimeNs: spec.maxDowntimeNs } : {}),
      });
      migration = outcome(m.run(all[0]!));
      moved = m.dst!;
    }
    // Both hosts to the end. The budget counts host ticks, as for a run without migration: host B
    // gets what host A left of it.
    b.run(b.hostTick() + Math.max(0, req.maxInstructions - a.hostTick()));
    a.run(req.maxInstructions);
    const ends = a.vms.map((v) => endOf(v.end));
    ends[0] = endOf(moved.end);
    return { vms: ends, migration };
  } finally {
    a.release();
    b.release();
  }
}
