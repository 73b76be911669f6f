// Lesson 12 (lessons/12-live-migration): `vizor lesson check 12` passes it, and `vizor migrate` of
// its kernel prints exactly the output its check expects (QEMU's, recorded for check.json), for
// pre-copy and post-copy.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { command } from '../../src/cli/migrate.ts';

const lesson = 'lessons/12-live-migration';
const expected = (JSON.parse(readFileSync(join(lesson, 'check.json'), 'utf8')) as { runs: { expect: { serial: { equals: string } } }[] }).runs[0]!.expect.serial.equals;

describe.concurrent('lesson 12: live migration', () => {
  it('vizor lesson check passes it', () => {
    const r = spawnSync('node', ['bin/vizor.mjs', 'lesson', 'check', '12'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stdout).toContain('the lesson checks out');
    expect(r.status).toBe(0);
  });
  for (const mode of [['--max-downtime', '5ms'], ['--postcopy', '--bandwidth', '10M']]) {
    it(`vizor migrate ${mode.join(' ')}: the same output as without migration`, async () => {
      let stdout = '', stderr = '';
      const status = await command([join(lesson, 'kernel.asm'), '--at', '6M', ...mode], { stdout: (t) => { stdout += t; }, stderr: (t) => { stderr += t; } });
      expect(status).toBe(73);
      expect(stdout).toBe(expected);
      // Pre-copy compares both hosts' memory after the move (post-copy has no moment where both hold it all).
      if (mode[0] !== '--postcopy') expect(stderr).toMatch(/checksum: source (\w+), destination \1 \(equal\)/);
      else expect(stderr).toMatch(/\d+ pages fetched on first touch/);
    });
  }
});
