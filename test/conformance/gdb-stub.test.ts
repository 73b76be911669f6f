// vizor's GDB stub driven by the real GDB (Debian's /usr/bin/gdb, batch mode), and compared with
// QEMU's own gdbstub on the same kernel: after `hbreak *ADDR; continue; delete; stepi N` both
// must show the same registers. Missing gdb or qemu fails the test (they are oracles).
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { serveGdb } from '../../src/cli/gdb-attach.ts';
import { Machine } from '../../src/machine/machine.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
const SOURCE = join(import.meta.dirname, '../unit/debug-kernel.asm');
let imagePath: string;
let image: Uint8Array;
let symbols: Map<string, number>;
const L = (name: string): number => symbols.get(name) ?? Number.NaN;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-gdb-'));
  imagePath = join(dir, 'debug-kernel.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', imagePath, SOURCE]);
  image = new Uint8Array(readFileSync(imagePath));
  const r = assemble(readFileSync(SOURCE, 'utf8'), { fileName: 'debug-kernel.asm', provider: { read: (p) => readFileSync(join(KERNELS, p), 'utf8') } });
  symbols = new Map(r.map.symbols.map((s) => [s.name, s.address >>> 0]));
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts vizor's stub on a system-chosen port; resolves with the port and the exit status to come. */
async function vizorStub(m: Machine, options: Parameters<typeof serveGdb>[2] = {}): Promise<{ port: number; status: Promise<number> }> {
  let listening!: (port: number) => void;
  const port = new Promise<number>((r) => (listening = r));
  const status = serveGdb(m, 0, { log: () => {}, ...options, onListening: listening });
  return { port: await Promise.race([port, status.then((s) => Promise.reject(new Error(`stub ended with ${s} before listening`)))]), status };
}

/** Runs gdb in batch mode (asynchronously: the stub under test lives in this process). */
function gdb(port: number, commands: string[], timeoutMs = 30_000, interruptAfterMs?: number): Promise<string> {
  const args = ['-batch', '-nx', '-ex', 'set architecture i386', '-ex', 'set pagination off', '-ex', `target remote 127.0.0.1:${port}`];
  for (const c of commands) args.push('-ex', c);
  return new Promise((resolve, reject) => {
    const p = spawn('/usr/bin/gdb', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    // Ctrl-C as a user gives it: SIGINT to gdb, which sends the stub the 0x03 interrupt byte.
    if (interruptAfterMs !== undefined) setTimeout(() => p.kill('SIGINT'), interruptAfterMs);
    p.on('error', (e) => reject(new Error(`gdb is a test oracle and could not be started: ${e.message}`)));
    p.on('close', () => {
      clearTimeout(timer);
      resolve(out);
    });
  });
}

/** `info registers` lines → name → value, between `marker` and the next marker. */
function registers(out: string, marker: string): Record<string, number> {
  const start = out.indexOf(marker);
  if (start < 0) return {};
  const next = out.indexOf('@@', start + marker.length);
  const part = out.slice(start, next < 0 ? undefined : next);
  const regs: Record<string, number> = {};
  for (const m of part.matchAll(/^(e[a-z]{2}|[c-gs]s|eflags)\s+0x([0-9a-f]+)/gm)) regs[m[1]!] = parseInt(m[2]!, 16);
  return regs;
}

const hex = (v: number) => '0x' + v.toString(16);

describe('GDB against vizor', () => {
  it('connect, break at a symbol, continue, stepi, registers, memory, watchpoint, reverse-stepi, reverse-continue, detach', async () => {
    const m = new Machine({ memoryBytes: 64 << 20 });
    m.load(image, { kind: 'multiboot' });
    let output = '';
    const { port, status } = await vizorStub(m, { output: (t) => (output += t), snapshotInterval: 2000 });
    const out = await gdb(port, [
      `break *${hex(L('func'))}`,
      'continue',
      'echo @@at-func\\n',
      'info registers',
      'stepi',
      'echo @@after-stepi\\n',
      'info registers',
      `x/2xw ${hex(L('var'))}`,
      `watch *(int*)${hex(L('var'))}`,
      'continue',
      'echo @@after-watch\\n',
      'info registers eip',
      'reverse-stepi',
      'echo @@after-reverse-stepi\\n',
      'info registers eip',
      'reverse-continue',
      'echo @@after-reverse-continue\\n',
      'info registers eip',
      'delete',
      `awatch *(int*)${hex(L('var'))}`,
      'continue',
      'echo @@after-awatch\\n',
      'info registers eip',
      'delete',
      `rwatch *(int*)${hex(L('var2'))}`,
      'continue',
      'echo @@after-rwatch\\n',
      'info registers eip',
      'delete',
      'detach',
    ]);
    const atFunc = registers(out, '@@at-func');
    expect(atFunc.eip, out).toBe(L('func'));
    expect(atFunc).toMatchObject({ eax: 3, ecx: 0, edx: 0, cs: 8, ds: 0x10 });
    expect(registers(out, '@@after-stepi')).toMatchObject({ eip: L('func') + 1, edx: 1 });
    expect(out).toMatch(new RegExp(`${hex(L('var'))}.*:\\s+0x00000000\\s+0x00000077`));
    expect(out).toMatch(/Hardware watchpoint 2: \*\(int\*\)0x[0-9a-f]+\s+Old value = 0\s+New value = 3/);
    expect(registers(out, '@@after-watch').eip).toBe(L('after_store'));
    expect(registers(out, '@@after-reverse-stepi').eip).toBe(L('after_int'));
    expect(registers(out, '@@after-reverse-continue').eip).toBe(L('func')); // the breakpoint, hit once before
    // Z4 / Z3: the store to var is an access, the load of var2 a read (the CPU reports accesses)
    expect(out).toMatch(/Hardware access \(read\/write\) watchpoint \d+: \*\(int\*\)0x[0-9a-f]+\s+(Old value = 0\s+New value = 3|Value = 3)/);
    expect(registers(out, '@@after-awatch').eip).toBe(L('after_store'));
    expect(out).toMatch(/Hardware read watchpoint \d+: \*\(int\*\)0x[0-9a-f]+\s+Value = 119/);
    expect(registers(out, '@@after-rwatch').eip).toBe(L('after_load'));
    expect(out).toMatch(/Inferior 1 \(Remote target\) detached/);
    expect(await status).toBe((0x22 << 1) | 1); // after detach the kernel runs to its debug exit
    expect(output).toBe('dbg\ndone\n'); // printed once, though reverse execution replayed it
  });
});

describe('Ctrl-C', () => {
  it('interrupts a guest spinning forever (SIGINT to gdb → 0x03 → T02)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vizor-gdb-'));
    const runaway = join(dir, 'runaway.bin');
    execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', runaway, join(KERNELS, 'runaway.asm')]);
    const m = new Machine({ memoryBytes: 64 << 20 });
    m.load(new Uint8Array(readFileSync(runaway)), { kind: 'multiboot' });
    const { port, status } = await vizorStub(m);
    const out = await gdb(port, ['continue', 'x/2xb $pc', 'kill'], 30_000, 2500);
    expect(out).toMatch(/Program received signal SIGINT, Interrupt\./);
    expect(out).toMatch(/:\s+0xeb\s+0xfe/); // stopped in the kernel's `jmp $`
    expect(m.cpu.instructions).toBeGreaterThan(1_000_000);
    expect(await status).toBe(0);
  });
});

describe('vizor and QEMU gdbstubs agree', () => {
  // From loop_top: calls, INT n, stores, REP STOSB iterations. Then from the faulting load: the
  // #PF delivery (step 1 lands on the handler), the handler, its IRET and the retried load.
  const PHASES = [
    { at: 'loop_top', steps: [1, 17, 60, 200] },
    { at: 'fault_site', steps: [1, 2, 6, 9, 10] },
  ];
  const commands = () =>
    PHASES.flatMap(({ at, steps }) => [
      `hbreak *${hex(L(at))}`,
      'continue',
      'delete',
      ...steps.flatMap((n, i) => [`stepi ${n - (i === 0 ? 0 : steps[i - 1]!)}`, `echo @@${at}-${n}\\n`, 'info registers']),
    ]).concat(['kill']);
  const markers = PHASES.flatMap(({ at, steps }) => steps.map((n) => `@@${at}-${n}`));

  it('registers after N stepi from a breakpoint inside the kernel match QEMU', async () => {
    const qport = await freePort();
    const qemu = spawn(
      'qemu-system-i386',
      ['-accel', 'tcg', '-m', '64', '-kernel', imagePath, '-display', 'none', '-no-reboot', '-monitor', 'none', '-serial', 'null',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-S', '-gdb', `tcp:127.0.0.1:${qport}`],
      { stdio: 'ignore' },
    );
    const qemuFailed = new Promise<never>((_, reject) => qemu.on('error', (e) => reject(new Error(`qemu-system-i386 is a test oracle: ${e.message}`))));
    try {
      await new Promise((r) => setTimeout(r, 400));
      const m = new Machine({ memoryBytes: 64 << 20 });
      m.load(image, { kind: 'multiboot' });
      const { port: vport, status: vizorDone } = await vizorStub(m);
      const [qout, vout] = await Promise.race([Promise.all([gdb(qport, commands()), gdb(vport, commands())]), qemuFailed]);
      await vizorDone;
      for (const marker of markers) {
        const q = registers(qout, marker);
        const v = registers(vout, marker);
        expect(Object.keys(q).length, qout).toBeGreaterThanOrEqual(16);
        // EFLAGS: the arithmetic flags and IF/DF; undefined flags are masked (none here are undefined).
        q.eflags! &= 0x8d5 | 0x600;
        v.eflags! &= 0x8d5 | 0x600;
        expect(v, marker).toEqual(q);
      }
      expect(registers(vout, '@@fault_site-1').eip).toBe(L('pf_handler'));
    } finally {
      qemu.kill('SIGKILL');
    }
  });
});
