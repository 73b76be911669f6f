// `vizor run ... --save-at N file.vzs` and `vizor run --restore file.vzs`, bare or under --hv.
// run.ts hands any argument list with --save-at or --restore to `command` here. The run goes on
// after --save-at (a teacher saves a point and keeps watching; the file can be restored later
// as often as wanted); --restore resumes where the snapshot was taken, with identical output.
import { readFileSync, writeFileSync, writeSync } from 'node:fs';
import { Machine, BootError, type BootMode, type RunResult } from '../machine/machine.ts';
import { detectBootMode } from '../machine/boot/load.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique, type Vm } from '../hypervisor/index.ts';
import { driveVm } from '../migration/driver.ts';
import { SnapshotError, type SnapshotHeader } from '../migration/vzs.ts';
import { loadMachineFile, loadVmFile, restoreMachineInto, restoreVmInto, runMachineTo, saveMachine, saveVm } from '../migration/snapshot.ts';
import { parseAddress, parseCount, parseSize } from './args.ts';
import { ImageError, readImage } from './image.ts';

export const SNAPSHOT_USAGE = `usage: vizor run image|file.asm [--hv ...] --save-at N file.vzs
       vizor run --restore file.vzs [--hv [--paging shadow|nested] [--cpu vtx|deprivilege|bt]]

  --save-at N FILE     after exactly N instructions, save the whole machine (CPU, RAM, devices,
                       pending interrupts, virtual time) to FILE and keep running
  --restore FILE       resume from FILE instead of booting an image: the output continues exactly
                       as the original run's did. A snapshot taken under --hv needs --hv (it may
                       resume under another --paging or --cpu technique); a bare one needs no --hv.
  also: --mem SIZE, --max-instructions N (from the start or restore point), --multiboot,
        --flat ADDR, --boot-sector, --rom, --cmdline TEXT (as for vizor run)

Exit status as for vizor run; 4 also for a snapshot file that is unreadable, corrupt, truncated,
of another format version, or of the other kind (bare vs --hv).
`;

export interface SnapshotRunOptions {
  file?: string;
  saveAt?: { instructions: number; path: string };
  restore?: string;
  hv: boolean;
  cpu?: CpuTechnique;
  paging?: PagingTechnique;
  mode?: BootMode;
  cmdline?: string;
  memoryBytes: number;
  maxInstructions: number;
}

/** Parses the arguments (null fields keep the defaults); a string is a usage error. */
export function parseSnapshotArgs(args: string[]): SnapshotRunOptions | string {
  const o: SnapshotRunOptions = { hv: false, memoryBytes: 64 << 20, maxInstructions: 2_000_000_000 };
  const value = (i: number, name: string): string => {
    const v = args[i];
    if (v === undefined) throw new Error(`${name} needs a value`);
    return v;
  };
  try {
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      switch (a) {
        case '--save-at': {
          const n = parseCount(value(++i, a));
          if (n === null) return `--save-at takes an instruction count and a file, such as --save-at 100000 state.vzs`;
          o.saveAt = { instructions: n, path: value(++i, a) };
          break;
        }
        case '--restore': o.restore = value(++i, a); break;
        case '--hv': o.hv = true; break;
        case '--cpu': {
          const v = value(++i, a);
          if (v !== 'vtx' && v !== 'deprivilege' && v !== 'bt') return `--cpu takes vtx, deprivilege or bt, not '${v}'`;
          o.cpu = v;
          break;
        }
        case '--paging': {
          const v = value(++i, a);
          if (v !== 'shadow' && v !== 'nested') return `--paging takes shadow or nested, not '${v}'`;
          o.paging = v;
          break;
        }
        case '--multiboot': o.mode = { kind: 'multiboot' }; break;
        case '--boot-sector': o.mode = { kind: 'boot-sector' }; break;
        case '--rom': o.mode = { kind: 'rom' }; break;
        case '--flat': {
          const v = value(++i, a);
          const addr = parseAddress(v);
          if (addr === null) return `--flat takes an address such as 0x100000, not '${v}'`;
          o.mode = { kind: 'flat', address: addr };
          break;
        }
        case '--cmdline': o.cmdline = value(++i, a); break;
        case '--mem': {
          const v = value(++i, a);
          const n = parseSize(v);
          if (n === null || n < 2 << 20 || n > 256 << 20 || n % 4096 !== 0) return `--mem takes a size from 2M to 256M such as 64M, not '${v}'`;
          o.memoryBytes = n;
          break;
        }
        case '--max-instructions': {
          const v = value(++i, a);
          const n = parseCount(v);
          if (n === null) return `--max-instructions takes a positive count such as 1000000, not '${v}'`;
          o.maxInstructions = n;
          break;
        }
        default:
          if (a.startsWith('-')) return `option '${a}' does not go with --save-at/--restore`;
          if (o.file !== undefined) return `only one image, got '${o.file}' and '${a}'`;
          o.file = a;
      }
    }
  } catch (err) {
    return (err as Error).message;
  }
  if (o.restore !== undefined && o.file !== undefined) return `--restore resumes the image inside the snapshot: give no image ('${o.file}')`;
  if (o.restore === undefined && o.file === undefined) return 'no image given';
  return o;
}

/** Where serial output and messages go (the process's stdout and stderr unless a test swaps them). */
export interface SnapshotIo { stdout: (t: string) => void; stderr: (t: string) => void }
const processIo: SnapshotIo = { stdout: (t) => { writeSync(1, t); }, stderr: (t) => { writeSync(2, t); } };

function readSnapshotFile(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SnapshotError(`cannot read: ${code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message}`);
  }
}

export async function command(args: string[], io: SnapshotIo = processIo): Promise<number> {
  const out = io.stdout, err = io.stderr;
  if (args.includes('-h') || args.includes('--help')) {
    out(SNAPSHOT_USAGE);
    return 0;
  }
  const o = parseSnapshotArgs(args);
  if (typeof o === 'string') {
    err(`vizor run: ${o}\n${SNAPSHOT_USAGE}`);
    return 2;
  }
  try {
    return o.hv ? await runHv(o, io) : await runBare(o, io);
  } catch (e) {
    if (e instanceof SnapshotError) {
      err(`vizor: ${o.restore ?? o.saveAt?.path}: ${e.message}\n`);
      return 4;
    }
    if (e instanceof ImageError || e instanceof BootError) {
      err(e instanceof ImageError && e.cause === 'assembly' ? `${e.message}\n` : `vizor: ${o.file}: ${e.message}\n`);
      return 4;
    }
    throw e;
  }
}

interface Start { image: Uint8Array; name: string; boot: BootMode; memoryBytes: number; restoreHeader?: SnapshotHeader }

async function bootChoice(o: SnapshotRunOptions): Promise<Start> {
  const image = await readImage(o.file!);
  let boot = o.mode ?? detectBootMode(image);
  if (boot.kind === 'multiboot' && boot.cmdline === undefined) boot = { kind: 'multiboot', cmdline: o.cmdline ?? `${o.file} ` };
  return { image, name: o.file!, boot, memoryBytes: o.memoryBytes };
}

function saved(err: (t: string) => void, path: string, bytes: Uint8Array, instructions: number): void {
  writeFileSync(path, bytes);
  err(`vizor: saved a snapshot after ${instructions} instructions to ${path} (${bytes.length} bytes); running on\n`);
}

async function runBare(o: SnapshotRunOptions, { stdout: out, stderr: err }: SnapshotIo): Promise<number> {
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
    if (o.saveAt.instructions <= machine.cpu.instructions) {
      err(`vizor: --save-at ${o.saveAt.instructions}: the snapshot already starts at ${machine.cpu.instructions} instructions\n`);
      return 2;
    }
    result = runMachineTo(machine, o.saveAt.instructions);
    if (result === null) {
      saved(err, o.saveAt.path, saveMachine(machine, start.image, { image: start.name, boot: start.boot, memoryBytes: start.memoryBytes }), machine.cpu.instructions);
    } else {
      err(`vizor: the guest ended after ${machine.cpu.instructions} instructions, before --save-at ${o.saveAt.instructions}: no snapshot written\n`);
    }
  }
  if (result === null) result = machine.run(Math.max(1, Math.round((endNs - machine.nowNs()) / 32)));
  return bareStatus(result, machine, err);
}

function bareStatus(r: RunResult, machine: Machine, err: (t: string) => void): number {
  const eip = '0x' + (machine.cpu.getState().eip >>> 0).toString(16).toUpperCase().padStart(8, '0');
  switch (r.reason) {
    case 'debug-exit': return ((r.code << 1) | 1) & 0xff;
    case 'triple-fault': err(`vizor: triple fault at EIP=${eip}, the machine shut down\n`); return 6;
    case 'instruction-limit': err('vizor: instruction limit reached\n'); return 8;
    case 'halted': err(`vizor: the guest halted at EIP=${eip} with nothing left to wake it\n`); return 10;
    case 'stopped': err('vizor: the run was stopped\n'); return 70;
  }
}

/** "[vm0] " before each line, as `vizor run --hv` prints a VM's serial output. */
function prefixed(prefix: string, out: (t: string) => void): { write: (t: string) => void; flush: () => void } {
  let partial = '';
  return {
    write(t) {
      const parts = (partial + t).split('\n');
      partial = parts.pop()!;
      if (parts.length > 0) out(parts.map((l) => `${prefix}${l}\n`).join(''));
    },
    flush() {
      if (partial !== '') out(`${prefix}${partial}\n`);
      partial = '';
    },
  };
}

export function vmStatus(vm: Vm): number {
  const e = vm.end;
  if (e === null) return 70;
  switch (e.reason) {
    case 'debug-exit': return ((e.code << 1) | 1) & 0xff;
    case 'triple-fault': return 6;
    case 'instruction-limit': return 8;
    case 'halted': return 10;
    case 'reset': case 'killed': return 12;
  }
}

async function runHv(o: SnapshotRunOptions, { stdout: out, stderr: err }: SnapshotIo): Promise<number> {
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
  const host = new Hypervisor({ hostMemoryBytes: start.memoryBytes + (2 * 1025 * 4096) + (4 << 20) });
  const serial = prefixed('[vm0] ', out);
  try {
    const vm = host.addVm({ name: 'vm0', image: start.image, boot: start.boot, memoryBytes: start.memoryBytes, cpu, paging, serial: serial.write });
    if (payload !== null) restoreVmInto(vm, payload);
    const limit = vm.cpu.instructions + o.maxInstructions;
    if (o.saveAt !== undefined) {
      if (o.saveAt.instructions <= vm.cpu.instructions) {
        err(`vizor: --save-at ${o.saveAt.instructions}: the snapshot already starts at ${vm.cpu.instructions} instructions\n`);
        return 2;
      }
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
