// The CLI side of snapshots (src/cli/snapshot.ts, reached from `vizor run` with --save-at or
// --restore) and the refusal of bad files: corrupt, truncated, another format version, another
// kind, not a snapshot at all. Each refusal is one line and exit status 4.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/snapshot.ts';
import { crc32 } from '../../src/migration/crc32.ts';
import { decodeValue, encodeValue } from '../../src/migration/codec.ts';
import { decodeSnapshot, encodeSnapshot, SnapshotError } from '../../src/migration/vzs.ts';

const dir = mkdtempSync(join(tmpdir(), 'vizor-snap-'));
const KERNEL = 'fixtures/migration/cpu-bound.asm';

async function run(args: string[]) {
  let stdout = '', stderr = '';
  const status = await command(args, { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
  return { status, stdout, stderr };
}

describe('snapshot file format', () => {
  it('CRC-32 has the standard check value', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('the value codec round-trips every shape a snapshot holds', () => {
    const v = { a: 1, b: -5, c: 2 ** 40, d: 0.5, e: Infinity, f: 'tëxt', g: [true, false, null, undefined], h: new Map([[3, new Uint8Array([1, 2])]]), i: new Int32Array([-1, 7]), j: { k: new Uint32Array([0xffffffff]), l: new Uint16Array([9]) } };
    expect(decodeValue(encodeValue(v))).toEqual(v);
  });
  it('refuses damaged files with one-line reasons', () => {
    const good = encodeSnapshot({ kind: 'machine', image: 'x', boot: { kind: 'multiboot' }, memoryBytes: 1 << 21, instructions: 5, nowNs: 160 }, { n: 1 });
    const reason = (b: Uint8Array, kind?: 'machine' | 'vm') => {
      try { decodeSnapshot(b, kind); return 'accepted'; } catch (e) { expect(e).toBeInstanceOf(SnapshotError); return (e as Error).message; }
    };
    expect(reason(good)).toBe('accepted');
    expect(reason(good.slice(0, good.length - 1))).toMatch(/^truncated/);
    expect(reason(good.slice(0, 10))).toMatch(/^truncated/);
    const flipped = good.slice(); flipped[flipped.length - 2]! ^= 0x40;
    expect(reason(flipped)).toMatch(/checksum/);
    const version = good.slice(); version[8] = 9;
    expect(reason(version)).toBe('snapshot format version 9; this vizor reads version 1');
    expect(reason(new TextEncoder().encode('hello, not a snapshot'))).toMatch(/not a vizor snapshot/);
    expect(reason(good, 'vm')).toMatch(/bare machine/);
    // Garbage with a correct checksum: the decoder refuses it, it never throws anything else.
    let seed = 7;
    for (let t = 0; t < 200; t++) {
      const junk = good.slice();
      for (let k = 0; k < 4; k++) { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; junk[24 + (seed % (junk.length - 24))] = seed >>> 24; }
      new DataView(junk.buffer).setUint32(20, crc32(junk, 24), true);
      const r = reason(junk);
      expect(typeof r).toBe('string');
    }
  });
});

describe.concurrent('vizor run --save-at / --restore', () => {
  it('bare: save, continue, restore: the continued output is the same', async () => {
    const file = join(dir, 'bare.vzs');
    const full = await run([KERNEL, '--save-at', '1500000', file]);
    expect(full.status).toBe((0x21 << 1) | 1);
    expect(full.stderr).toMatch(/saved a snapshot after 1500000 instructions/);
    const restored = await run(['--restore', file]);
    expect(restored.status).toBe(full.status);
    expect(restored.stdout.length).toBeGreaterThan(0);
    expect(full.stdout.endsWith(restored.stdout)).toBe(true);
    expect(full.stdout).not.toBe(restored.stdout);
  });
  it('hv: saved under nested paging, restored under shadow paging', async () => {
    const file = join(dir, 'vm.vzs');
    const full = await run([KERNEL, '--hv', '--paging', 'nested', '--save-at', '1500000', file]);
    expect(full.status).toBe((0x21 << 1) | 1);
    const restored = await run(['--restore', file, '--hv', '--paging', 'shadow']);
    expect(restored.status).toBe(full.status);
    expect(full.stdout.endsWith(restored.stdout)).toBe(true);
    expect(restored.stdout).toMatch(/^\[vm0\] /);
  });
  it('refuses bad snapshot files with exit status 4 and one line', async () => {
    const file = join(dir, 'k.vzs');
    expect((await run([KERNEL, '--save-at', '1000', file])).status).toBe((0x21 << 1) | 1);
    const bytes = new Uint8Array(readFileSync(file));
    const cases: [string, Uint8Array, RegExp][] = [
      ['truncated', bytes.slice(0, 500), /truncated/],
      ['corrupt', (() => { const b = bytes.slice(); b[b.length - 100]! ^= 1; return b; })(), /checksum/],
      ['version', (() => { const b = bytes.slice(); b[8] = 2; return b; })(), /format version 2/],
      ['garbage', new TextEncoder().encode('MZ not a snapshot'), /not a vizor snapshot/],
    ];
    for (const [name, b, re] of cases) {
      const path = join(dir, `${name}.vzs`);
      writeFileSync(path, b);
      const r = await run(['--restore', path]);
      expect(r.status, name).toBe(4);
      expect(r.stderr, name).toMatch(re);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stdout, name).toBe('');
    }
    const kind = await run(['--restore', file, '--hv']);
    expect(kind.status).toBe(4);
    expect(kind.stderr).toMatch(/bare machine: restore it without --hv/);
    const missing = await run(['--restore', join(dir, 'nope.vzs')]);
    expect(missing.status).toBe(4);
    expect(missing.stderr).toMatch(/no such file/);
    expect((await run([KERNEL, '--save-at', 'soon', file])).status).toBe(2);
  });
});
