// The app's "Save snapshot" / "Open snapshot": the session's machine as a .vzs file (the format of
// `vizor run --save-at/--restore`, src/migration/vzs.ts), bare or, under the hypervisor, the VM
// whose vCPU the debugger follows. A restored file starts a new session (its history begins at the
// snapshot); a file that is refused (corrupt, another format version, not a snapshot) throws with
// a one-line reason before anything of the current session is touched.
import type { Core } from './core.ts';
import { Engine } from './engine.ts';
import type { BootModeSpec, HvConfig, MachineConfig } from './protocol.ts';
import { loadMachineFile, loadVmFile, restoreMachineInto, restoreVmInto, saveMachine, saveVm } from '../migration/snapshot.ts';
import { readSnapshotHeader, SnapshotError, type SnapshotHeader } from '../migration/vzs.ts';

const MIB = 1024 * 1024;

/** Header fields the app adds (the CLI ignores them): the console so far, shown again on restore. */
interface AppHeader {
  serialText?: string;
}

function bootOf(b: BootModeSpec): SnapshotHeader['boot'] {
  return b.kind === 'flat' ? { kind: 'flat', address: b.address } : b.kind === 'boot-sector' ? { kind: 'boot-sector' } : { kind: 'multiboot', cmdline: '' };
}

function fileName(program: string, instructions: number): string {
  const base = program.replace(/^.*\//, '').replace(/\.[^.]*$/, '') || 'machine';
  return `${base}-${instructions}.vzs`;
}

export function saveSession(e: Engine, image: Uint8Array, config: MachineConfig, program: string): { bytes: Uint8Array; name: string; summary: string } {
  const common = { image: program, boot: bootOf(config.boot), memoryBytes: config.memoryMiB * MIB, serialText: e.console };
  const focus = e.hvFocus;
  if (focus) {
    const hv = config.hv!;
    const header = { ...common, hv: { cpu: hv.cpu, paging: hv.paging } };
    const bytes = saveVm(focus.target.vm, image, header);
    const n = focus.target.vm.cpu.instructions;
    return { bytes, name: fileName(`${program}-vm${focus.focus}`, n), summary: `VM ${focus.focus} of ${program} under the hypervisor, after ${n} instructions` };
  }
  const bytes = saveMachine(e.machine, image, common);
  const n = e.machine.cpu.instructions;
  return { bytes, name: fileName(program, n), summary: `${program} on the bare machine, after ${n} instructions` };
}

export interface OpenedSnapshot {
  engine: Engine;
  image: Uint8Array;
  config: MachineConfig;
  programName: string;
  summary: string;
}

/** Decodes, checks and restores a snapshot into a new engine; throws (SnapshotError) when refused. */
export function openSession(core: Core, bytes: Uint8Array, current: MachineConfig): OpenedSnapshot {
  const header = readSnapshotHeader(bytes);
  if (header.boot.kind === 'rom') throw new SnapshotError('holds a machine started from a BIOS ROM: restore it with `vizor run --restore`');
  const boot: BootModeSpec = header.boot.kind === 'flat' ? { kind: 'flat', address: header.boot.address } : { kind: header.boot.kind };
  const memoryMiB = Math.max(1, Math.round(header.memoryBytes / MIB));
  const base: HvConfig = { mode: 'bare', vms: 1, cpu: 'vtx', paging: 'shadow', sched: 'rr', ...(current.hv ?? {}) };
  const serialText = (header as SnapshotHeader & AppHeader).serialText;
  if (header.kind === 'machine') {
    const f = loadMachineFile(bytes);
    const config: MachineConfig = { memoryMiB, boot, hv: { ...base, mode: 'bare' } };
    const engine = new Engine(core, header.memoryBytes, null);
    engine.load(f.payload.image, f.header.boot);
    restoreMachineInto(engine.machine, f.payload);
    engine.restarted(typeof serialText === 'string' ? serialText : '');
    return { engine, image: f.payload.image, config, programName: header.image, summary: `${header.image} on the bare machine, after ${header.instructions} instructions` };
  }
  const f = loadVmFile(bytes);
  // As `vizor run --restore --hv` does: the VM alone under a new hypervisor.
  const hv: HvConfig = {
    ...base, mode: 'hypervisor', vms: 1, focusVm: 0,
    cpu: (header.hv?.cpu as HvConfig['cpu'] | undefined) ?? base.cpu,
    paging: (header.hv?.paging as HvConfig['paging'] | undefined) ?? base.paging,
  };
  const config: MachineConfig = { memoryMiB, boot, hv };
  const engine = new Engine(core, header.memoryBytes, hv);
  try {
    engine.load(f.payload.image, f.header.boot);
    restoreVmInto(engine.hvFocus!.target.vm, f.payload);
  } catch (e) {
    engine.dispose();
    throw e;
  }
  engine.restarted(typeof serialText === 'string' ? serialText : '');
  return { engine, image: f.payload.image, config, programName: header.image, summary: `VM of ${header.image} under the hypervisor (${hv.cpu}, ${hv.paging} paging), after ${header.instructions} instructions` };
}
