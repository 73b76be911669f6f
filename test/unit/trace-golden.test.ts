// Golden traces of two fixture kernels: the machine is deterministic, so the event stream of a
// run must match the checked-in file byte for byte, and survive the NDJSON, binary and ring
// round trips. Kernels are assembled by NASM (the oracle), not by vizor's own assembler, so a
// change in the assembler cannot move these files. Update deliberately: npx vitest run -u <this file>.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Machine } from '../../src/machine/machine.ts';
import { goldenTrace } from '../../src/trace/capture.ts';
import { RingBuffer } from '../../src/trace/ring.ts';
import { toPerfetto } from '../../src/trace/perfetto.ts';
import { ALL_KINDS_MASK, KIND_BIT } from '../../src/trace/schema.ts';

const KERNELS = 'fixtures/kernels';
const dir = mkdtempSync(join(tmpdir(), 'vizor-golden-'));

function assemble(name: string): Uint8Array {
  const out = join(dir, `${name}.bin`);
  execFileSync('nasm', ['-f', 'bin', '-i', `${KERNELS}/`, `${KERNELS}/${name}.asm`, '-o', out]);
  return new Uint8Array(readFileSync(out));
}

/**
 * paging: page faults, walks, TLB and mode events, without the serial port's polling I/O (the
 * console events carry its text); pit-timer: the whole stream, I/O, interrupts and HLTs included.
 */
const CASES = [
  // exit: the byte each kernel writes to port 0xF4 when it is done (QEMU exits (v<<1)|1: 43, 47).
  { name: 'paging', mask: ALL_KINDS_MASK & ~KIND_BIT.io, exit: 21 },
  { name: 'pit-timer', mask: ALL_KINDS_MASK, exit: 23 },
];

function record(name: string, image: Uint8Array, mask: number) {
  let serial = '';
  const machine = new Machine({ serial: (t) => (serial += t) });
  machine.load(image, { kind: 'multiboot', cmdline: name });
  let result: ReturnType<Machine['run']> | undefined;
  const kinds = mask === ALL_KINDS_MASK ? 'all' : 'all but io';
  const golden = goldenTrace(
    machine.emitter,
    { kernel: `${KERNELS}/${name}.asm`, mode: 'multiboot', kinds },
    () => {
      result = machine.run(50_000_000);
    },
    mask,
  );
  return { golden, result, serial };
}

describe.concurrent('golden traces of fixture kernels', () => {
  for (const { name, mask, exit } of CASES) {
    it(name, async () => {
      const image = assemble(name);
      const first = record(name, image, mask);
      expect(first.result).toEqual({ reason: 'debug-exit', code: exit });
      expect(first.serial).toMatch(new RegExp(`${name} done`));
      expect(first.golden.events.length).toBeGreaterThan(100);
      expect(first.golden.roundTripError).toBeNull();

      // Deterministic: a second run gives the same bytes.
      expect(record(name, image, mask).golden.text).toBe(first.golden.text);

      // The ring buffer gives the real stream back exactly too.
      const ring = new RingBuffer({ capacity: first.golden.events.length });
      for (const ev of first.golden.events) ring.push(ev);
      expect(ring.toArray()).toStrictEqual(first.golden.events);

      // The console events spell the serial output.
      const consoleText = first.golden.events
        .map((e) => (e.kind === 'console' && e.device === 'serial' ? e.text : ''))
        .join('');
      expect(consoleText).toBe(first.serial);

      expect(toPerfetto(first.golden.events).traceEvents.length).toBeGreaterThan(first.golden.events.length);
      await expect(first.golden.text).toMatchFileSnapshot(`../../fixtures/traces/${name}.ndjson`);
    });
  }
});
