// Running kernels in QEMU, the oracle: serial output and exit status, or a per-instruction
// register log. Invocations follow /work/shared/QEMU-NOTES.md. Results are cached by content
// hash under node_modules/.cache/vizor-qemu/ (a fresh CI checkout has no cache, so its first
// run asks QEMU for real); VIZOR_QEMU_NOCACHE=1 bypasses the cache.
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { REPO_ROOT, scratchDir } from './nasm.ts';
import { parseQemuLog, type QemuRecord } from './qemu-log.ts';

export const QEMU = 'qemu-system-i386';
const CACHE_DIR = join(REPO_ROOT, 'node_modules', '.cache', 'vizor-qemu');

export interface QemuRun {
  stdout: string;
  /** Exit status, or null when QEMU was killed by the timeout. */
  status: number | null;
  timedOut: boolean;
}

export interface QemuOptions {
  boot?: 'multiboot' | 'boot-sector';
  /** -icount shift=5,sleep=off: deterministic virtual time (timer kernels). */
  icount?: boolean;
  timeoutMs?: number;
  memory?: string;
}

let version: string | undefined;
/** QEMU's version line; part of every cache key. Throws a clear error when QEMU is missing. */
export function qemuVersion(): string {
  if (version === undefined) {
    try {
      version = execFileSync(QEMU, ['--version'], { encoding: 'utf8' }).split('\n')[0];
    } catch {
      throw new Error(`${QEMU} is not installed: it is the test oracle (Debian package qemu-system-x86)`);
    }
  }
  return version;
}

function machineArgs(image: string, opts: QemuOptions): string[] {
  const boot = opts.boot === 'boot-sector'
    ? ['-drive', `format=raw,file=${image},if=floppy`]
    : ['-kernel', image];
  return [
    '-accel', 'tcg', '-m', opts.memory ?? '64', ...boot, '-display', 'none', '-no-reboot',
    '-monitor', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
    ...(opts.icount ? ['-icount', 'shift=5,sleep=off'] : []),
  ];
}

function cacheKey(kind: string, image: string, args: string[], extra = ''): string {
  const h = createHash('sha256');
  h.update(qemuVersion()).update('\0').update(kind).update('\0').update(args.join(' ').replaceAll(image, 'IMAGE'));
  h.update('\0').update(extra).update('\0').update(readFileSync(image));
  return h.digest('hex').slice(0, 32);
}

function cached<T>(key: string, load: (buf: Buffer) => T): T | undefined {
  if (process.env.VIZOR_QEMU_NOCACHE) return undefined;
  const file = join(CACHE_DIR, key);
  return existsSync(file) ? load(readFileSync(file)) : undefined;
}

function store(key: string, data: Buffer): void {
  mkdirSync(CACHE_DIR, { recursive: true });
  writeFileSync(join(CACHE_DIR, key), data);
}

interface Spawned {
  stdout: string;
  status: number | null;
  timedOut: boolean;
}

/** Runs QEMU; kills it after timeoutMs, or earlier when stopEarly() says so (polled). */
function spawnQemu(args: string[], timeoutMs: number, stopEarly?: () => boolean): Promise<Spawned> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(QEMU, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let stopped = false;
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const poll = stopEarly
      ? setInterval(() => {
          if (stopEarly()) {
            stopped = true;
            child.kill('SIGKILL');
          }
        }, 20)
      : undefined;
    child.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      reject(e.code === 'ENOENT' ? new Error(`${QEMU} is not installed: it is the test oracle (Debian package qemu-system-x86)`) : e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      const stderr = Buffer.concat(err).toString('utf8');
      if (!timedOut && !stopped && code !== 0 && (code ?? 0) % 2 === 0 && stderr.trim()) {
        // even statuses are QEMU's own errors (debug-exit statuses are odd): say what it said
        reject(new Error(`${QEMU} failed (status ${code}): ${stderr.trim()}`));
        return;
      }
      resolvePromise({ stdout: Buffer.concat(out).toString('latin1'), status: timedOut || stopped ? null : code, timedOut });
    });
    child.stdin.end();
  });
}

function tempPath(what: string): string {
  return join(scratchDir(), `qemu-${process.pid}-${(++temps).toString(36)}.${what}`);
}
let temps = 0;

/**
 * Runs a kernel; returns what it printed on COM1 and QEMU's status. The serial port goes to a
 * file, not a pipe: QEMU's UART drops a byte when a non-blocking pipe write fails several
 * times (measured: `-serial stdio` into a busy pipe lost characters of long outputs).
 */
export async function runQemu(image: string, opts: QemuOptions = {}): Promise<QemuRun> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const serial = tempPath('serial');
  const args = [...machineArgs(image, opts), '-serial', `file:${serial}`];
  const key = cacheKey('serial', image, args.map((a) => (a.endsWith(serial) ? 'SERIAL' : a)), String(timeoutMs));
  const hit = cached(key, (b) => JSON.parse(b.toString('utf8')) as QemuRun);
  if (hit) return hit;
  const r = await spawnQemu(args, timeoutMs);
  const stdout = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  rmSync(serial, { force: true });
  const result: QemuRun = { stdout, status: r.status, timedOut: r.timedOut };
  store(key, Buffer.from(JSON.stringify(result)));
  return result;
}

export interface TraceOptions {
  /** Records wanted (QEMU is stopped once its log certainly holds that many). */
  limit?: number;
  timeoutMs?: number;
  /** Inclusive range of CS base + EIP that QEMU logs (default: the kernel at 1 MiB). */
  filter?: [number, number];
  memory?: string;
}

const BYTES_PER_RECORD = 1000; // a record is about 830 bytes; stop a little after the limit

/**
 * Runs a kernel with -singlestep -d cpu,nochain and parses the log: the state before each
 * instruction whose CS base + EIP lies in the filter range. Default memory is QEMU's own
 * (128 MiB), as in QEMU-NOTES.md: the Multiboot entry registers then match vizor's loader.
 */
export async function runQemuTrace(image: string, opts: TraceOptions = {}): Promise<QemuRecord[]> {
  const limit = opts.limit ?? 100_000;
  const [lo, hi] = opts.filter ?? [0x100000, 0x200000];
  const log = tempPath('log');
  const args = [
    '-accel', 'tcg', '-singlestep', '-d', 'cpu,nochain', '-dfilter', `0x${lo.toString(16)}..0x${hi.toString(16)}`,
    '-D', log, ...(opts.memory ? ['-m', opts.memory] : []), '-kernel', image, '-display', 'none', '-no-reboot',
    '-monitor', 'none', '-serial', 'null', '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
  ];
  const key = cacheKey('trace', image, args.map((a) => (a === log ? 'LOG' : a)), String(limit));
  const hit = cached(key, (b) => JSON.parse(gunzipSync(b).toString('utf8')) as QemuRecord[]);
  if (hit) return hit;
  const enough = (): boolean => existsSync(log) && statSync(log).size > (limit + 2) * BYTES_PER_RECORD;
  await spawnQemu(args, opts.timeoutMs ?? 60_000, enough);
  const records = parseQemuLog(readFileSync(log, 'latin1'), limit);
  rmSync(log, { force: true });
  store(key, gzipSync(JSON.stringify(records)));
  return records;
}

/**
 * Runs a kernel in QEMU uncached and measures the wall-clock time (for benchmarks that
 * compare vizor's speed with QEMU's; QEMU's start-up, about 0.1 s, is included).
 */
export async function timeQemu(image: string, opts: QemuOptions = {}): Promise<QemuRun & { wallMs: number }> {
  const serial = tempPath('serial');
  const args = [...machineArgs(image, opts), '-serial', `file:${serial}`];
  const start = process.hrtime.bigint();
  const r = await spawnQemu(args, opts.timeoutMs ?? 120_000);
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  const stdout = existsSync(serial) ? readFileSync(serial, 'latin1') : '';
  rmSync(serial, { force: true });
  return { stdout, status: r.status, timedOut: r.timedOut, wallMs };
}
