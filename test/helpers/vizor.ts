// Running vizor's CLI (`node bin/vizor.mjs run ...`) as a child process, the way a user does.
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT } from './nasm.ts';
import type { CpuRecord } from './qemu-log.ts';

export const VIZOR_BIN = join(REPO_ROOT, 'bin', 'vizor.mjs');

export interface VizorRun {
  stdout: string;
  stderr: string;
  status: number | null;
  timedOut: boolean;
}

export interface VizorOptions {
  boot?: 'multiboot' | 'boot-sector';
  maxInstructions?: number;
  /** Write a per-instruction register trace (NDJSON) here. */
  traceCpu?: string;
  mem?: string;
  extraArgs?: string[];
  timeoutMs?: number;
}

export function vizorArgs(image: string, opts: VizorOptions = {}): string[] {
  const args = ['run', image, opts.boot === 'boot-sector' ? '--boot-sector' : '--multiboot'];
  if (opts.mem) args.push('--mem', opts.mem);
  if (opts.maxInstructions !== undefined) args.push('--max-instructions', String(opts.maxInstructions));
  if (opts.traceCpu) args.push('--trace-cpu', opts.traceCpu);
  return [...args, ...(opts.extraArgs ?? [])];
}

/** Runs `vizor run IMAGE ...`; serial output arrives on stdout, messages on stderr. */
export function runVizor(image: string, opts: VizorOptions = {}): Promise<VizorRun> {
  return runVizorArgs(vizorArgs(image, opts), opts.timeoutMs ?? 60_000);
}

export function runVizorArgs(args: string[], timeoutMs = 60_000): Promise<VizorRun> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [VIZOR_BIN, ...args], { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({
        stdout: Buffer.concat(out).toString('latin1'),
        stderr: Buffer.concat(err).toString('utf8'),
        status: timedOut ? null : code,
        timedOut,
      });
    });
    child.stdin.end();
  });
}

/** Reads at most `limit` records of a --trace-cpu NDJSON file. */
export async function readVizorTrace(file: string, limit = Infinity): Promise<CpuRecord[]> {
  const records: CpuRecord[] = [];
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    if (records.length >= limit) break;
    if (!line.trim()) continue;
    let r: Record<string, unknown>;
    try {
      r = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`${file}: line ${records.length + 1} is not JSON: ${line.slice(0, 200)}`);
    }
    for (const k of ['eip', 'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eflags', 'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'cr0', 'cr2', 'cr3']) {
      if (typeof r[k] !== 'number') throw new Error(`${file}: record ${records.length} has no numeric "${k}": ${line.slice(0, 200)}`);
    }
    records.push(r as unknown as CpuRecord);
  }
  lines.close();
  return records;
}
