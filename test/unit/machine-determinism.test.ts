// The machine is deterministic: the same image gives the same event stream, byte for byte, however
// the caller slices the run (the CLI runs 50M-instruction chunks, the worker ~8 ms slices, the
// debugger single instructions and replays). Regression: a HLT inside a slice used to add that
// slice's pre-HLT instructions to the idle time a second time, shifting timer interrupts.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index.ts';
import { Machine } from '../../src/machine/machine.ts';
import { ALL_KINDS_MASK } from '../../src/trace/schema.ts';

const KERNELS = join(__dirname, '..', '..', 'fixtures', 'kernels');

function build(name: string): Uint8Array {
  const file = join(KERNELS, `${name}.asm`);
  const r = assemble(readFileSync(file, 'utf8'), {
    fileName: file,
    provider: { read: (p) => readFileSync(p.startsWith('/') ? p : join(dirname(file), p)) },
  });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.bytes;
}

function eventsWithChunks(image: Uint8Array, chunk: number): string[] {
  const m = new Machine({ serial: () => {} });
  m.load(image, { kind: 'multiboot', cmdline: 'determinism' });
  const lines: string[] = [];
  m.emitter.listen({ mask: ALL_KINDS_MASK, onEvent: (e) => lines.push(JSON.stringify(e)) });
  for (let i = 0; i < 1_000_000; i++) {
    const r = m.run(chunk);
    if (r.reason !== 'instruction-limit') {
      lines.push(JSON.stringify(r));
      break;
    }
  }
  return lines;
}

describe('the machine is deterministic whatever the run slicing', () => {
  for (const name of ['pit-timer', 'paging']) {
    it(`${name}: one big run, 10,000-instruction chunks and 777-instruction chunks give the same events`, () => {
      const image = build(name);
      const whole = eventsWithChunks(image, 50_000_000);
      expect(whole.length).toBeGreaterThan(100);
      expect(whole[whole.length - 1]).toContain('debug-exit');
      expect(eventsWithChunks(image, 10_000)).toEqual(whole);
      expect(eventsWithChunks(image, 777)).toEqual(whole);
    });
  }
});
