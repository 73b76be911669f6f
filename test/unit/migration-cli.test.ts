// `vizor migrate`: the guest's serial output across the move equals QEMU's for the same kernel
// (fixtures/migration/*.expected.txt, recorded with qemu-system-i386 -accel tcg -kernel ...
// -icount shift=5,sleep=off, exit statuses 67 and 69) and the bare machine's, the report names the rounds and the downtime, the events file
// carries every phase in order, and bad arguments are usage errors.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/migrate.ts';
import { Machine } from '../../src/machine/machine.ts';
import { readImage } from '../../src/cli/image.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-migrate-'));
const WRITER = 'fixtures/migration/writer.asm';

async function run(args: string[]) {
  let stdout = '', stderr = '';
  const status = await command(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { status, stdout, stderr };
}

async function bare(file: string): Promise<string> {
  let serial = '';
  const m = new Machine({ serial: (t) => { serial += t; } });
  m.load(await readImage(file), { kind: 'multiboot', cmdline: `${file} ` });
  m.run(1e9);
  return serial;
}

describe.concurrent('vizor migrate', () => {
  it('pre-copy: same output as a bare run, rounds and downtime reported, events in order', async () => {
    const events = join(dir, 'pre.ndjson');
    const r = await run([WRITER, '--at', '11M', '--max-downtime', '5ms', '--paging', 'nested', '--events', events]);
    expect(r.status).toBe((0x22 << 1) | 1);
    expect(r.stdout).toBe(await bare(WRITER));
    expect(r.stdout).toBe(readFileSync('fixtures/migration/writer.expected.txt', 'latin1'));
    expect(r.stderr).toMatch(/round 0: sent \d+ pages/);
    expect(r.stderr).toMatch(/round 2: /);
    expect(r.stderr).toMatch(/downtime \d+\.\d+ ms/);
    expect(r.stderr).toMatch(/\(equal\)/);
    const phases = readFileSync(events, 'utf8').trim().split('\n').map((l) => JSON.parse(l).phase as string);
    expect(phases[0]).toBe('start');
    expect(phases.slice(-4)).toEqual(['downtime-start', 'downtime-end', 'resume', 'done']);
    expect(phases.filter((p) => p === 'round-start').length).toBeGreaterThanOrEqual(3);
  });
  it('post-copy: same output, pages fetched on first touch', async () => {
    const r = await run([WRITER, '--at', '11M', '--postcopy', '--bandwidth', '10M']);
    expect(r.status).toBe((0x22 << 1) | 1);
    expect(r.stdout).toBe(await bare(WRITER));
    expect(r.stderr).toMatch(/[1-9]\d* pages fetched on first touch/);
  });
  it('cpu-bound kernel under shadow paging, post-copy: QEMU\'s output', async () => {
    const r = await run(['fixtures/migration/cpu-bound.asm', '--at', '1500000', '--postcopy']);
    expect(r.status).toBe((0x21 << 1) | 1);
    expect(r.stdout).toBe(readFileSync('fixtures/migration/cpu-bound.expected.txt', 'latin1'));
  });
  it('usage errors', async () => {
    expect((await run([WRITER, '--bandwidth', 'fast'])).status).toBe(2);
    expect((await run([WRITER, '--latency', 'soon'])).status).toBe(2);
    expect((await run(['--postcopy'])).status).toBe(2);
    const missing = await run([join(dir, 'none.bin')]);
    expect(missing.status).toBe(4);
  });
});
