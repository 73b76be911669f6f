// The fixture kernels: how each is built and booted, and what QEMU's exit status is.
import { join } from 'node:path';
import { BENCH_DIR, KERNELS_DIR, assembleFile } from './nasm.ts';

export type BootKind = 'multiboot' | 'boot-sector';

export interface KernelSpec {
  name: string;
  boot: BootKind;
  /** QEMU's exit status: (v << 1) | 1 for a debug-exit byte v; 0 after a triple fault with -no-reboot. */
  qemuStatus: number | 'timeout';
  /** vizor's status where it differs from QEMU's by design (triple fault 6, instruction limit 8). */
  vizorStatus?: number;
  /** Timer-driven: run QEMU with -icount shift=5,sleep=off (vizor's virtual time matches it). */
  icount?: boolean;
}

const exitByte = (v: number): number => (v << 1) | 1;

export const KERNELS: KernelSpec[] = [
  { name: 'alu-flags', boot: 'multiboot', qemuStatus: exitByte(0x11) },
  { name: 'muldiv-shifts', boot: 'multiboot', qemuStatus: exitByte(0x12) },
  { name: 'strings-stack', boot: 'multiboot', qemuStatus: exitByte(0x13) },
  { name: 'exceptions', boot: 'multiboot', qemuStatus: exitByte(0x14) },
  { name: 'paging', boot: 'multiboot', qemuStatus: exitByte(0x15) },
  { name: 'usermode-syscalls', boot: 'multiboot', qemuStatus: exitByte(0x16) },
  { name: 'pit-timer', boot: 'multiboot', qemuStatus: exitByte(0x17), icount: true },
  { name: 'segments-descriptors', boot: 'multiboot', qemuStatus: exitByte(0x18) },
  { name: 'bitops-misc', boot: 'multiboot', qemuStatus: exitByte(0x19) },
  { name: 'multiboot-elf', boot: 'multiboot', qemuStatus: exitByte(0x1a) },
  { name: 'bootsector', boot: 'boot-sector', qemuStatus: exitByte(0x1b) },
  { name: 'triple-fault', boot: 'multiboot', qemuStatus: 0, vizorStatus: 6 },
  { name: 'runaway', boot: 'multiboot', qemuStatus: 'timeout', vizorStatus: 8 },
];

export function kernelSpec(name: string): KernelSpec {
  const spec = KERNELS.find((k) => k.name === name);
  if (!spec) throw new Error(`no fixture kernel named ${name}`);
  return spec;
}

export interface BuiltKernel {
  spec: KernelSpec;
  /** NASM's image: what QEMU boots (NASM is the oracle for the bytes). */
  image: string;
  /** The source: what vizor runs, assembling it with its own assembler (test/conformance/nasm-kernels
   *  checks the two assemblers agree byte for byte). */
  source: string;
}

const builds = new Map<string, Promise<BuiltKernel>>();

/** Builds fixtures/kernels/NAME.asm once per process. */
export function buildKernel(name: string): Promise<BuiltKernel> {
  let p = builds.get(name);
  if (!p) {
    p = doBuild(kernelSpec(name), join(KERNELS_DIR, `${name}.asm`));
    builds.set(name, p);
  }
  return p;
}

/** Builds fixtures/bench/NAME.asm (flat Multiboot images). */
export async function buildBench(name: string): Promise<string> {
  const { out } = await assembleFile(join(BENCH_DIR, `${name}.asm`), { outName: `bench-${name}.bin` });
  return out;
}

/** Every kernel is one `nasm -f bin`: a.out-kludge Multiboot image, hand-made ELF or floppy image. */
async function doBuild(spec: KernelSpec, source: string): Promise<BuiltKernel> {
  const { out } = await assembleFile(source);
  return { spec, image: out, source };
}
