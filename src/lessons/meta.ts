// lesson.md's front matter → LessonMeta, with a clear error for every missing or wrong field.
import type { BootMode } from '../machine/machine.ts';
import { parseFrontMatter, type FrontMap, type FrontValue } from './frontmatter.ts';
import { LessonFormatError, type HvSettings, type LessonMeta, type MachineSettings } from './types.ts';

export const DEFAULT_MAX_INSTRUCTIONS = 50_000_000;
const DEFAULT_MEMORY = 16 * 1048576;

export const HV_DEFAULTS: HvSettings = { cpu: 'vtx', paging: 'shadow', sched: 'rr' };
const CPU = ['vtx', 'deprivilege', 'bt'] as const;
const PAGING = ['shadow', 'nested'] as const;
const SCHED = ['rr', 'credit'] as const;

const KNOWN = ['title', 'order', 'goals', 'kernel', 'machine', 'hv'];

export function parseLessonMeta(name: string, file: string, source: string): LessonMeta {
  const fm = parseFrontMatter(file, source);
  const d = fm.data;
  const fail = (field: string, problem: string): never => {
    throw new LessonFormatError(file, `front matter '${field}'`, problem);
  };
  for (const key of Object.keys(d)) {
    if (!KNOWN.includes(key)) fail(key, `unknown field (known: ${KNOWN.join(', ')})`);
  }
  const title = d.title;
  if (typeof title !== 'string' || title.trim() === '') fail('title', 'missing: every lesson needs a title');
  const order = d.order;
  if (typeof order !== 'number' || !Number.isInteger(order) || order < 0) fail('order', 'missing or not a whole number (lessons are listed by it)');
  const goals = d.goals ?? [];
  if (!Array.isArray(goals) || goals.some((g) => typeof g !== 'string')) fail('goals', 'must be a list of "- goal" lines');
  const kernel = d.kernel ?? 'kernel.asm';
  if (typeof kernel !== 'string') fail('kernel', 'must be a file name such as kernel.asm');
  const meta: LessonMeta = {
    name,
    title: title as string,
    order: order as number,
    goals: goals as string[],
    kernel: kernel as string,
    machine: machineSettings(d.machine, fail),
    body: fm.body,
  };
  if (d.hv !== undefined) meta.hv = hvSettings(d.hv, HV_DEFAULTS, (f, p) => fail(`hv.${f}`, p));
  return meta;
}

function asMap(v: FrontValue | undefined, fail: (problem: string) => never): FrontMap {
  if (v === undefined) return {};
  if (typeof v !== 'object' || Array.isArray(v)) fail('must be indented "key: value" lines');
  return v as FrontMap;
}

function machineSettings(v: FrontValue | undefined, fail: (field: string, problem: string) => never): MachineSettings {
  const m = asMap(v, (p) => fail('machine', p));
  for (const key of Object.keys(m)) {
    if (!['boot', 'memory', 'maxInstructions'].includes(key)) fail(`machine.${key}`, 'unknown field (known: boot, memory, maxInstructions)');
  }
  const boot = parseBoot(m.boot ?? 'multiboot');
  if (typeof boot === 'string') fail('machine.boot', boot);
  let memoryBytes = DEFAULT_MEMORY;
  if (m.memory !== undefined) {
    const size = parseMemory(m.memory);
    if (size === null) fail('machine.memory', `'${String(m.memory)}' is not a size from 2M to 1G such as 16M`);
    memoryBytes = size as number;
  }
  const max = m.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
  if (typeof max !== 'number' || !Number.isInteger(max) || max <= 0) fail('machine.maxInstructions', 'must be a positive whole number');
  return { boot: boot as BootMode, memoryBytes, maxInstructions: max as number };
}

/** "multiboot", "boot-sector", "rom" or "flat 0x100000"; an error message otherwise. */
export function parseBoot(v: FrontValue): BootMode | string {
  const text = String(v).trim();
  if (text === 'multiboot') return { kind: 'multiboot', cmdline: '' };
  if (text === 'boot-sector') return { kind: 'boot-sector' };
  if (text === 'rom') return { kind: 'rom' };
  const flat = /^flat\s+(0x[0-9a-f]+|\d+)$/i.exec(text);
  if (flat) return { kind: 'flat', address: Number(flat[1]) };
  return `'${text}' is not a boot mode (multiboot, boot-sector, rom, or flat ADDRESS such as flat 0x100000)`;
}

/** 16M, 512K, 1G or a byte count; null when not a size from 2 MiB to 1 GiB in whole pages. */
export function parseMemory(v: FrontValue): number | null {
  const m = /^(\d+)\s*([KMG]?)$/i.exec(String(v).trim());
  if (!m) return null;
  const unit = { '': 1, K: 1024, M: 1048576, G: 1073741824 }[m[2]!.toUpperCase() as '' | 'K' | 'M' | 'G'];
  const n = Number(m[1]) * unit;
  return n >= 2 * 1048576 && n <= 1073741824 && n % 4096 === 0 ? n : null;
}

export function hvSettings(v: unknown, base: HvSettings, fail: (field: string, problem: string) => never): HvSettings {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail('', 'must be a map with cpu, paging, sched');
  const m = v as Record<string, unknown>;
  const out = { ...base };
  for (const [key, value] of Object.entries(m)) {
    const pick = <T extends string>(allowed: readonly T[]): T => {
      if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(key, `'${String(value)}' is not one of ${allowed.join(', ')}`);
      return value as T;
    };
    if (key === 'cpu') out.cpu = pick(CPU);
    else if (key === 'paging') out.paging = pick(PAGING);
    else if (key === 'sched') out.sched = pick(SCHED);
    else fail(key, 'unknown field (known: cpu, paging, sched)');
  }
  return out;
}
