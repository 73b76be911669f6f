// The app's snapshot files (src/worker/snapshot-file.ts): the session saved partway as .vzs, bare
// and under the hypervisor, opened into a new session, runs on to the same output as the run that
// was never interrupted (fixtures/kernels/pit-timer.expected.txt, QEMU's output); refused files
// say why. The .vzs codec itself is tested with the CLI (snapshot-*.test.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/worker/engine.ts';
import { realCore } from '../../src/worker/core.ts';
import { openSession, saveSession } from '../../src/worker/snapshot-file.ts';
import type { MachineConfig } from '../../src/worker/protocol.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
const expected = readFileSync(join(KERNELS, 'pit-timer.expected.txt'), 'utf8');
let image: Uint8Array;

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-appsnap-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, join(KERNELS, 'pit-timer.asm')]);
  image = new Uint8Array(readFileSync(out));
});

const bare: MachineConfig = { memoryMiB: 16, boot: { kind: 'multiboot' }, hv: { mode: 'bare', vms: 1, cpu: 'vtx', paging: 'shadow', sched: 'rr' } };
const underHv: MachineConfig = { ...bare, hv: { mode: 'hypervisor', vms: 1, cpu: 'vtx', paging: 'nested', sched: 'rr' } };

function start(config: MachineConfig): Engine {
  const e = new Engine(realCore(), config.memoryMiB << 20, config.hv?.mode === 'hypervisor' ? config.hv : null);
  e.load(image, { kind: 'multiboot' });
  return e;
}

function toEnd(e: Engine): void {
  for (let i = 0; i < 200 && e.run(1_000_000).kind === 'budget'; i++);
  expect(e.finished?.kind).toBe('debug-exit');
}

const norm = (t: string) => t.replace(/\r/g, '');

describe('snapshot files in the app', () => {
  for (const [what, config] of [['the bare machine', bare], ['a VM under the hypervisor', underHv]] as const) {
    it(`${what}: saved partway and opened again, it prints what an uninterrupted run prints`, () => {
      const e = start(config);
      expect(e.run(41_234).kind).toBe('budget');
      const partway = e.console;
      expect(partway).toContain('tick=');
      const saved = saveSession(e, image, config, 'pit-timer.asm');
      expect(saved.name).toMatch(/^pit-timer(-vm0)?-\d+\.vzs$/);

      const opened = openSession(realCore(), saved.bytes, bare);
      expect(opened.config.hv?.mode).toBe(config.hv?.mode);
      expect(opened.config.memoryMiB).toBe(16);
      const r = opened.engine;
      expect(r.instructions).toBe(e.instructions);
      expect(r.console).toBe(partway); // the console so far comes with it
      toEnd(r);
      expect(norm(r.console)).toBe(expected);
      // Its history starts at the snapshot: step back works within the restored run.
      expect(r.historyStart).toBe(e.instructions);
      r.dispose();
      e.dispose();
    });
  }

  it('refuses corrupt, truncated and foreign files with a one-line reason', () => {
    const e = start(bare);
    e.run(10_000);
    const { bytes } = saveSession(e, image, bare, 'pit-timer.asm');
    const flipped = bytes.slice();
    flipped[flipped.length - 50]! ^= 0x40;
    expect(() => openSession(realCore(), flipped, bare)).toThrow('corrupt: checksum (CRC-32) does not match the contents');
    expect(() => openSession(realCore(), bytes.subarray(0, bytes.length - 10), bare)).toThrow(/^truncated: /);
    expect(() => openSession(realCore(), new TextEncoder().encode('; not a snapshot\n'), bare)).toThrow('not a vizor snapshot');
  });
});
