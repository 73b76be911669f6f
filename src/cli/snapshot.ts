// `vizor run ... --save-at N file.vzs` and `vizor run --restore file.vzs`, bare or under --hv.
// run.ts hands a parsed argument list with --save-at or --restore to `runSnapshot` here. The run
// goes on after --save-at (a teacher saves a point and keeps watching; the file can be restored
// later as often as wanted); --restore resumes where the snapshot was taken, with identical output.
import { readFileSync, writeFileSync } from 'node:fs';
import { Machine, BootError, type BootMode, type RunResult } from '../machine/machine.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique } from '../hypervisor/index.ts';
import { driveVm } from '../migration/driver.ts';
import { SnapshotError, type SnapshotHeader } from '../migration/vzs.ts';
import { loadMachineFile, loadVmFile, restoreMachineInto, restoreVmInto, runMachineTo, saveMachine, saveVm } from '../migration/snapshot.ts';
import { parseRunArgs, RUN_USAGE, type RunArgs } from './run-options.ts';
import { bootModeFor, ImageError, imageErrorText, readImage } from './image.ts';
import { bareStatus, usageErrorText } from './run.ts';
import { fdWriter, hostMemoryFor, PrefixedSerial, vmStatus } from './hv.ts';

/** Where serial output and messages go (the process's stdout and stderr unless a test swaps them). */
export interface SnapshotIo { stdout: (t: string) => void; stderr: (t: string) => void }
const processIo: SnapshotIo = { stdout: fdWriter(1), stderr: fdWriter(2) };

function readSnapshotFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotError(`cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

/** `vizor run` with --save-at or --restore from raw arguments (usage errors: status 2). */
export async function command(args: string[], io: SnapshotIo = processIo): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    io.stdout(RUN_USAGE);
    return 0;
  }
  const o = parseRunArgs(args);
  const problem = typeof o === 'string' ? o : o.mode !== 'snapshot' ? 'give --save-at N FILE or --restore FILE' : null;
  if (problem !== null) {
    io.stderr(usageErrorText(problem));
    return 2;
  }
  return runSnapshot(o as RunArgs, io);
}

/** A parsed `vizor run` in snapshot mode: saves and/or restores, bare or under --hv. */
export async function runSnapshot(o: RunArgs, io: SnapshotIo = processIo): Promise<number> {
  const err = io.stderr;
  try {
    return o.hv ? await runHv(o, io) : await runBare(o, io);
  } catch (e) {
    if (e instanceof SnapshotError) {
      err(`vizor: ${o.restore ?? o.saveAt?.path}: ${e.message}\n`);
      return 4;
    }
    if (e instanceof ImageError) {
      err(imageErrorText(o.images[0]!, e));
      return 4;
    }
    if (e instanceof BootError) {
      err(`vizor: ${o.images[0]}: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
}

interface Start { image: Uint8Array; name: string; boot: BootMode; memoryBytes: number; restoreHeader?: SnapshotHeader }

async function bootChoice(o: RunArgs): Promise<Start> {
  const file = o.images[0]!;
  const image = await readImage(file);
  return { image, name: file, boot: bootModeFor(image, file, o.boot, o.cmdline), memoryBytes: o.memoryBytes };
}

/** --save-at N after a restore point at or beyond N is a usage error (said on `err`). */
function alreadyPast(saveAt: number, startsAt: number, err: (t: string) => void): boolean {
  if (saveAt > startsAt) return false;
  err(`vizor run: --save-at ${saveAt}: the snapshot already starts at ${startsAt} instructions\n`);
  return true;
}

function saved(err: (t: string) => void, path: string, bytes: Uint8Array, instructions: number): void {
  writeFileSync(path, bytes);
  err(`vizor: saved a snapshot after ${instructions} instructions to ${path} (${bytes.length} bytes); running on\n`);
}

async function runBare(o: RunArgs, { stdout: out, stderr: err }: SnapshotIo): Promise<number> {
  let start: Start, machine: Machine;
  if (o.restore !== undefined) {
    const { header, payload } = loadMachineFile(readSnapshotFile(o.restore));
    start = { image: payload.image, name: header.image, boot: header.boot, memoryBytes: header.memoryBytes };
    machine = new Machine({ memoryBytes: start.memoryBytes, serial: out });
    machine.load(start.image, start.boot);
    restoreMachineInto(machine, payload);
  } else {
    start = await bootChoice(o);
    machine = new Machine({ memoryBytes: start.memoryBytes, serial: out });
    machine.load(start.image, start.boot);
  }
  const endNs = machine.nowNs() + o.maxInstructions * 32;
  let result: RunResult | null = null;
  if (o.saveAt !== undefined) {
    if (alreadyPast(o.saveAt.instructions, machine.cpu.instructions, err)) return 2;
    result = runMachineTo(machine, o.saveAt.instructions);
    if (result === null) {
      saved(err, o.saveAt.path, saveMachine(machine, start.image, { image: start.name, boot: start.boot, memoryBytes: start.memoryBytes }), machine.cpu.instructions);
    } else {
      err(`vizor: the guest ended after ${machine.cpu.instructions} instructions, before --save-at ${o.saveAt.instructions}: no snapshot written\n`);
    }
  }
  if (result === null) result = machine.run(Math.max(1, Math.round((endNs - machine.nowNs()) / 32)));
  return bareStatus(result, machine, o.maxInstructions, err);
}

async function runHv(o: RunArgs, { stdout: out, stderr: err }: SnapshotIo): Promise<number> {
  let start: Start, payload: Parameters<typeof restoreVmInto>[1] | null = null;
  let cpu: CpuTechnique = o.cpu ?? 'vtx', paging: PagingTechnique = o.paging ?? 'shadow';
  if (o.restore !== undefined) {
    const f = loadVmFile(readSnapshotFile(o.restore));
    payload = f.payload;
    start = { image: f.payload.image, name: f.header.image, boot: f.header.boot, memoryBytes: f.header.memoryBytes };
    cpu = o.cpu ?? (f.header.hv?.cpu as CpuTechnique | undefined) ?? 'vtx';
    paging = o.paging ?? (f.header.hv?.paging as PagingTechnique | undefined) ?? 'shadow';
  } else {
    start = await bootChoice(o);
  }
  const hostBytes = hostMemoryFor(1, start.memoryBytes);
  if (hostBytes === null) throw new SnapshotError(`a VM of ${start.memoryBytes >> 20} MiB does not fit the hypervisor's 1 GiB host`);
  const host = new Hypervisor({ hostMemoryBytes: hostBytes });
  const serial = new PrefixedSerial('[vm0] ', out);
  try {
    const vm = host.addVm({ name: 'vm0', image: start.image, boot: start.boot, memoryBytes: start.memoryBytes, cpu, paging, serial: (t) => serial.write(t) });
    if (payload !== null) restoreVmInto(vm, payload);
    const limit = vm.cpu.instructions + o.maxInstructions;
    if (o.saveAt !== undefined) {
      if (alreadyPast(o.saveAt.instructions, vm.cpu.instructions, err)) return 2;
      if (driveVm(host, vm, { instructions: Math.min(o.saveAt.instructions, limit) }) === 'reached' && vm.cpu.instructions === o.saveAt.instructions) {
        saved(err, o.saveAt.path, saveVm(vm, start.image, { image: start.name, boot: start.boot, memoryBytes: start.memoryBytes, hv: { cpu, paging } }), vm.cpu.instructions);
      } else {
        err(`vizor: the guest ended after ${vm.cpu.instructions} instructions, before --save-at ${o.saveAt.instructions}: no snapshot written\n`);
      }
    }
    if (driveVm(host, vm, { instructions: limit }) === 'reached') vm.finish({ reason: 'instruction-limit' });
    serial.flush();
    if (vm.end !== null && vm.end.reason !== 'debug-exit') err(`vizor: ${vm.name}: ${vm.describeEnd()}\n`);
    return vmStatus(vm);
  } finally {
    host.release();
  }
}
