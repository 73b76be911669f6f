// The worker's view of the core (machine, assembler, disassembler, trace codec), behind one small
// interface so the host never depends on a core module's exact export names.
//
// TEMPORARY ADAPTER: while the core is being written, modules are found with import.meta.glob,
// so the app builds and shows "core missing" instead of failing to compile. Once every module has
// landed this file shrinks to plain imports.
import type { Emitter } from '../trace/emitter.ts';
import type { AsmMap, CoreStatus, CpuView, Diagnostic, SourceFile } from './protocol.ts';

export type RunResultLike =
  | { reason: 'debug-exit'; code: number }
  | { reason: 'triple-fault' }
  | { reason: 'instruction-limit' }
  | { reason: 'halted' }
  | { reason: 'stopped' };

export interface CpuLike {
  hooks: { beforeInstruction?(cpu: CpuLike): boolean } | null;
  instructions: number;
  getState(): CpuView;
  eip?: number;
}

export interface MemoryLike {
  readonly size: number;
  read8(p: number): number;
  read32(p: number): number;
  write8(p: number, v: number): void;
  readBytes(p: number, length: number): Uint8Array;
}

export interface MachineLike {
  readonly cpu: CpuLike;
  readonly memory: MemoryLike;
  readonly emitter: Emitter;
  load(image: Uint8Array, mode: unknown): void;
  run(maxInstructions?: number): RunResultLike;
  stop(): void;
  snapshot(): unknown;
  restore(s: unknown): void;
  vgaText(): string[];
  /** Optional: PS/2 keyboard input, when the machine exposes it. */
  keyboard?: { pressScancode?(code: number): void; feed?(code: number): void };
}

export interface MachineOptions {
  memoryBytes: number;
  emitter: Emitter;
  serial: (text: string) => void;
  serialInput: () => number | undefined;
}

export interface Assembled {
  bytes: Uint8Array | null;
  diagnostics: Diagnostic[];
  map: AsmMap | null;
}

export interface Decoded {
  length: number;
  text: string;
}

export interface Core {
  status: CoreStatus;
  createMachine(opts: MachineOptions): MachineLike;
  assemble(files: SourceFile[], main: string): Assembled;
  /** Decodes one instruction at bytes[0]; null when the bytes are not a valid instruction. */
  decode(bytes: Uint8Array, address: number, bits: 16 | 32): Decoded | null;
}

type Loader = () => Promise<unknown>;
type Mod = Record<string, unknown>;

const machineMods = import.meta.glob(['../machine/machine.ts']);
const asmMods = import.meta.glob(['../asm/*.ts']);
const x86Mods = import.meta.glob(['../x86/*.ts']);

async function loadAll(mods: Record<string, Loader>): Promise<Mod[]> {
  const out: Mod[] = [];
  for (const load of Object.values(mods)) {
    try {
      out.push((await load()) as Mod);
    } catch {
      // A module still being written may not parse yet; the status line will say what is missing.
    }
  }
  return out;
}

function findExport<T>(mods: Mod[], names: string[]): T | null {
  for (const name of names) for (const m of mods) if (typeof m[name] === 'function') return m[name] as T;
  return null;
}

interface RawAsmResult {
  bytes: Uint8Array;
  diagnostics: { severity: 'error' | 'warning'; file: string; line: number; column: number; message: string }[];
  map: { symbols: { name: string; address: number; kind?: string }[]; items: { address: number; length: number; file: string; line: number; kind?: string }[] };
}
type RawAssemble = (source: string, opts: { fileName?: string; provider?: { read(path: string): string | Uint8Array | undefined } }) => RawAsmResult;

function adaptAssembler(raw: RawAssemble): Core['assemble'] {
  return (files, main) => {
    const byName = new Map(files.map((f) => [f.name, f.text]));
    const source = byName.get(main) ?? '';
    try {
      const r = raw(source, { fileName: main, provider: { read: (p) => byName.get(p) ?? byName.get(p.replace(/^\.\//, '')) } });
      const diagnostics: Diagnostic[] = r.diagnostics.map((d) => ({ ...d }));
      const ok = !diagnostics.some((d) => d.severity === 'error');
      const map: AsmMap = {
        symbols: r.map.symbols.filter((s) => s.kind !== 'equ').map((s) => ({ name: s.name, address: s.address })),
        lines: r.map.items.filter((i) => i.kind !== 'reserve').map((i) => ({ address: i.address, length: i.length, file: i.file, line: i.line, code: i.kind === 'code' })),
      };
      return { bytes: ok ? r.bytes : null, diagnostics, map };
    } catch (e) {
      return { bytes: null, map: null, diagnostics: [{ file: main, line: 1, column: 1, severity: 'error', message: `internal assembler error: ${(e as Error).message}` }] };
    }
  };
}

/** Loads whatever of the core exists. Never throws: missing parts are listed in status.missing. */
export async function loadCore(): Promise<Core> {
  const [machine, asm, x86] = await Promise.all([loadAll(machineMods), loadAll(asmMods), loadAll(x86Mods)]);
  const MachineClass = findExport<new (o: MachineOptions) => MachineLike>(machine, ['Machine']);
  const rawAssemble = findExport<RawAssemble>(asm, ['assemble']);
  const rawDecode = findExport<(bytes: Uint8Array, address: number, bits: 16 | 32) => Decoded | null>([...x86, ...asm], ['disassembleOne', 'decodeOne']);
  const missing: string[] = [];
  if (!MachineClass) missing.push('machine (src/machine/machine.ts)');
  if (!rawAssemble) missing.push('assembler (src/asm)');
  if (!rawDecode) missing.push('disassembler (src/x86)');
  return {
    status: { machine: !!MachineClass, assembler: !!rawAssemble, disassembler: !!rawDecode, debugger: false, traceCodec: false, missing },
    createMachine(opts) {
      if (!MachineClass) throw new Error('the machine (src/machine/machine.ts) is not available in this build');
      return new MachineClass(opts);
    },
    assemble: rawAssemble
      ? adaptAssembler(rawAssemble)
      : (_files, main) => ({ bytes: null, map: null, diagnostics: [{ file: main, line: 1, column: 1, severity: 'error', message: 'the assembler (src/asm) is not available in this build' }] }),
    decode(bytes, address, bits) {
      if (!rawDecode) return null;
      try {
        return rawDecode(bytes, address, bits);
      } catch {
        return null;
      }
    },
  };
}
