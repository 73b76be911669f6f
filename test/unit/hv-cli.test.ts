// The --hv part of `vizor run`: argument parsing, per-VM serial prefixes, serial files, exit
// statuses, boot sectors on the VM's BIOS, refusing images a VM cannot boot (ROMs).
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseHvArgs, runHypervisor, type HvRunOptions } from '../../src/cli/hv.ts';
import { fixtureKernel, hvKernel, runBare } from './hv-helpers.ts';

function collect(): { out: string[]; err: string[]; opts: Pick<HvRunOptions, 'stdout' | 'stderr'> } {
  const out: string[] = [], err: string[] = [];
  return { out, err, opts: { stdout: (t) => out.push(t), stderr: (t) => err.push(t) } };
}

describe('vizor run --hv', () => {
  it('parses --vms, --vm, techniques, weights and rejects bad values with a message', () => {
    const a = parseHvArgs(['--hv', 'k.bin', '--vms', '3', '--cpu', 'bt', '--paging', 'nested', '--sched', 'credit', '--weight', '1,2,4']);
    expect(typeof a).toBe('object');
    if (typeof a === 'string') return;
    expect(a.files).toEqual(['k.bin', 'k.bin', 'k.bin']);
    expect(a.rest).toMatchObject({ cpu: 'bt', paging: 'nested', sched: 'credit', weights: [1, 2, 4] });
    const b = parseHvArgs(['--vm', 'a.bin', '--vm', 'b.bin']);
    expect(typeof b === 'object' && b.files).toEqual(['a.bin', 'b.bin']);
    expect(parseHvArgs(['k.bin', '--cpu', 'kvm'])).toMatch(/--cpu takes vtx or deprivilege or bt/);
    expect(parseHvArgs(['k.bin', '--vm', 'b.bin'])).toMatch(/either/);
    expect(parseHvArgs(['--vms', '2'])).toBe('no image given');
    expect(parseHvArgs(['k.bin', '--weight', 'x'])).toMatch(/--weight/);
  });

  it('prefixes each VM\'s serial lines and returns the highest status', async () => {
    const good = await fixtureKernel('muldiv-shifts');
    const tf = await hvKernel('hostile-triple-fault');
    const c = collect();
    const status = await runHypervisor({
      images: [{ path: 'good.bin', bytes: good }, { path: 'tf.bin', bytes: tf }],
      cpu: 'vtx', paging: 'shadow', sched: 'rr', weights: [], caps: [], memoryBytes: 16 << 20, maxInstructions: 50_000_000, ...c.opts,
    });
    const lines = c.out.join('').split('\n').filter((l) => l !== '');
    expect(lines.every((l) => l.startsWith('[vm0] ') || l.startsWith('[vm1] '))).toBe(true);
    expect(lines).toContain('[vm1] hostile-triple-fault');
    expect(lines.filter((l) => l.startsWith('[vm0] ')).length).toBeGreaterThan(10);
    expect(status).toBe(((0x12 << 1) | 1));
    expect(c.err.join('')).toMatch(/vm1: triple fault/);
  });

  it('writes one serial file per VM with --serial-dir', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vizor-hv-serial-'));
    const c = collect();
    const img = await hvKernel('count-pages');
    const status = await runHypervisor({
      images: [{ path: 'a', bytes: img }, { path: 'b', bytes: img }],
      cpu: 'vtx', paging: 'nested', sched: 'credit', weights: [1, 3], caps: [], memoryBytes: 16 << 20, maxInstructions: 10_000_000, serialDir: dir, ...c.opts,
    });
    expect(status).toBe((0x31 << 1) | 1);
    expect(c.out.join('')).toBe('');
    for (const f of ['vm0.txt', 'vm1.txt']) expect(readFileSync(join(dir, f), 'latin1')).toMatch(/^count-pages\n.*count-pages done\n$/s);
  });

  it('boots a boot sector on the BIOS the VM carries: the same output as the bare machine', async () => {
    const image = await fixtureKernel('bootsector');
    const bare = runBare(image, 20_000_000, 64 << 20, { kind: 'boot-sector' });
    expect(bare.ending).toBe('debug-exit 27');
    const c = collect();
    const status = await runHypervisor({
      images: [{ path: 'bootsector.bin', bytes: image }], cpu: 'vtx', paging: 'shadow', sched: 'rr', weights: [], caps: [], memoryBytes: 64 << 20, maxInstructions: 20_000_000, ...c.opts,
    });
    expect(status).toBe((27 << 1) | 1);
    expect(c.out.join('')).toBe(bare.serial.split('\n').filter((l) => l !== '').map((l) => `[vm0] ${l}\n`).join(''));
  });

  it('refuses a ROM image of the wrong size with status 4 and says why (good ROMs: hv-rom.test.ts)', async () => {
    const rom = new Uint8Array(1000);
    const c = collect();
    const parsed = parseHvArgs(['--rom', 'bios.rom']);
    if (typeof parsed === 'string') throw new Error(parsed);
    const status = await runHypervisor({ ...parsed.rest, images: [{ path: 'bios.rom', bytes: rom }], ...c.opts });
    expect(status).toBe(4);
    expect(c.err.join('')).toBe('vizor: bios.rom: a BIOS ROM must be 64 KiB or 128 KiB, this image has 1000 bytes\n');
  });
});
