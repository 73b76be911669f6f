// Whole-run snapshots: a bare machine or one VM under the hypervisor, with the image it booted,
// to and from .vzs bytes. The image travels in the file so that `--restore file.vzs` alone can
// rebuild the machine (the loader's firmware tables, the boot disk) before loading the state.
import type { Machine, MachineSnapshot, RunResult } from '../machine/machine.ts';
import type { Vm } from '../hypervisor/index.ts';
import { captureVm, restoreVm, type VmState } from './vm-state.ts';
import { decodeSnapshot, encodeSnapshot, SnapshotError, type SnapshotHeader } from './vzs.ts';

export interface MachinePayload { image: Uint8Array; machine: MachineSnapshot }
export interface VmPayload { image: Uint8Array; vm: VmState }

/**
 * Runs the bare machine until exactly `n` instructions have retired (or it ends first: then the
 * RunResult). Machine.run's budget is virtual time, which is at least the instructions run, so
 * repeated runs of the remainder land on `n` without overshooting.
 */
export function runMachineTo(machine: Machine, n: number): RunResult | null {
  while (machine.cpu.instructions < n) {
    const r = machine.run(n - machine.cpu.instructions);
    if (r.reason !== 'instruction-limit') return r;
  }
  return null;
}

export function saveMachine(machine: Machine, image: Uint8Array, header: Omit<SnapshotHeader, 'kind' | 'instructions' | 'nowNs'>): Uint8Array {
  const payload: MachinePayload = { image, machine: machine.snapshot() };
  return encodeSnapshot({ ...header, kind: 'machine', instructions: machine.cpu.instructions, nowNs: machine.nowNs() }, payload);
}

export function saveVm(vm: Vm, image: Uint8Array, header: Omit<SnapshotHeader, 'kind' | 'instructions' | 'nowNs'>): Uint8Array {
  const payload: VmPayload = { image, vm: captureVm(vm) };
  return encodeSnapshot({ ...header, kind: 'vm', instructions: vm.cpu.instructions, nowNs: vm.nowNs() }, payload);
}

function shaped(ok: boolean, what: string): void {
  if (!ok) throw new SnapshotError(`corrupt: the payload is not ${what}`);
}

/** Decodes a bare-machine snapshot (throws SnapshotError). */
export function loadMachineFile(bytes: Uint8Array): { header: SnapshotHeader; payload: MachinePayload } {
  const { header, payload } = decodeSnapshot(bytes, 'machine');
  const p = payload as MachinePayload;
  shaped(p !== null && typeof p === 'object' && p.image instanceof Uint8Array && typeof p.machine === 'object' && p.machine !== null, 'a machine snapshot');
  return { header, payload: p };
}

/** Decodes a VM snapshot (throws SnapshotError). */
export function loadVmFile(bytes: Uint8Array): { header: SnapshotHeader; payload: VmPayload } {
  const { header, payload } = decodeSnapshot(bytes, 'vm');
  const p = payload as VmPayload;
  shaped(p !== null && typeof p === 'object' && p.image instanceof Uint8Array && typeof p.vm === 'object' && p.vm !== null && p.vm.pages instanceof Map, 'a VM snapshot');
  return { header, payload: p };
}

/** Loads a decoded machine snapshot into a machine that has loaded the same image. */
export function restoreMachineInto(machine: Machine, p: MachinePayload): void {
  try {
    machine.restore(p.machine);
  } catch (e) {
    throw new SnapshotError(`cannot be restored: ${(e as Error).message}`);
  }
}

export function restoreVmInto(vm: Vm, p: VmPayload): void {
  try {
    restoreVm(vm, p.vm);
  } catch (e) {
    throw new SnapshotError(`cannot be restored: ${(e as Error).message}`);
  }
}
