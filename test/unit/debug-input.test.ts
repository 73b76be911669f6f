// Typed input and reverse execution: keys (PS/2) and serial bytes the guest received are part of
// the debugger's history, so stepping back past them and forward again gives the same registers,
// screen and console as the first time. Driven through the app's worker engine (src/worker/engine.ts),
// with test/unit/debug-input-kernel.asm (assembled by NASM), whose ESI mixes each input with the
// timer tick it arrived at: an input replayed at another moment would show.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/worker/engine.ts';
import { realCore } from '../../src/worker/core.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
let image: Uint8Array;

beforeAll(() => {
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-input-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, join(import.meta.dirname, 'debug-input-kernel.asm')]);
  image = new Uint8Array(readFileSync(out));
});

const A = [0x1e, 0x9e], B = [0x30, 0xb0], C = [0x2e, 0xae], D = [0x20, 0xa0];

function boot(): Engine {
  const e = new Engine(realCore(), 16 << 20);
  e.load(image, { kind: 'multiboot' });
  return e;
}

/** What must come out the same: registers, the screen (with colours), the console, the position. */
function observe(e: Engine) {
  const s = e.state();
  return { n: e.instructions, eip: s.eip, esi: s.esi, edi: s.edi, eax: s.eax, halted: s.halted, vga: Buffer.from(e.vgaCells()).toString('hex'), console: e.console };
}

/** Types the script's inputs at their points; returns the positions they went in at. */
function typeScript(e: Engine): number[] {
  const at: number[] = [];
  const input = (f: () => void) => { at.push(e.instructions); f(); };
  expect(e.run(40_000).kind).toBe('budget');
  input(() => e.pressKeys(A));
  e.run(3_000);
  input(() => e.typeSerial('x'));
  e.run(35_000);
  input(() => e.pressKeys([...B, ...C])); // two keys at once: the second waits in the controller
  e.run(1);
  input(() => e.typeSerial('yz'));        // two bytes: the second waits on the wire for the guest's read
  e.run(50_000);
  input(() => e.pressKeys(D));
  return at;
}

function runToEnd(e: Engine): void {
  for (let i = 0; i < 100 && e.run(1_000_000).kind === 'budget'; i++);
}

describe('typed input in the history', () => {
  it('stepping back past keys and serial bytes and forward again gives the same state', () => {
    const e = boot();
    const at = typeScript(e);
    runToEnd(e);
    expect(e.finished?.kind).toBe('debug-exit');
    const end = observe(e);
    expect(end.console).toMatch(/type something\r?\nxyz\r?\n?sum=[0-9a-f]{8}/);
    expect(end.vga).toContain(Buffer.from('a\x1eb\x1ec\x1ed\x1e', 'latin1').toString('hex'));

    // The same script without going back: a reference for the states in between.
    const ref = boot();
    typeScript(ref);
    const checkpoints = [at[0]! + 500, at[2]! + 2, at[3]! + 40, at[4]! + 100];
    const expected: ReturnType<typeof observe>[] = [];
    for (const n of checkpoints) {
      expect(ref.seek(n).kind).toBe('target');
      expected.push(observe(ref));
    }

    // Back to before the first key, then forward again: every input is replayed where it went in.
    expect(e.seek(at[0]! - 100).kind).toBe('target');
    expect(e.state().esi).toBe(0);
    for (let i = 0; i < checkpoints.length; i++) {
      expect(e.seek(checkpoints[i]!).kind).toBe('target');
      expect(observe(e)).toEqual(expected[i]);
    }
    runToEnd(e);
    expect(observe(e)).toEqual(end);

    // Step back over the last key's arrival one instruction at a time, then step forward again.
    expect(e.seek(at[4]! + 3).kind).toBe('target');
    const before = observe(e);
    for (let i = 0; i < 6; i++) e.stepBack();
    expect(e.instructions).toBe(at[4]! - 3);
    for (let i = 0; i < 6; i++) e.stepInto();
    expect(observe(e)).toEqual(before);
  });

  it('typing while in the past starts a new future', () => {
    const e = boot();
    const at = typeScript(e);
    runToEnd(e);
    const first = observe(e);
    // Back before the last key, and another key instead: a different screen and checksum.
    expect(e.seek(at[4]! - 1000).kind).toBe('target');
    e.pressKeys([0x31, 0xb1]); // n
    runToEnd(e);
    const second = observe(e);
    expect(second.console).not.toBe(first.console);
    expect(second.vga).toContain(Buffer.from('c\x1en\x1e', 'latin1').toString('hex'));
    // And that new future is what stepping back and forward replays now.
    expect(e.seek(at[4]! - 2000).kind).toBe('target');
    runToEnd(e);
    expect(observe(e)).toEqual(second);
  });

  it('under the hypervisor, typing reaches the focused VM only, and is replayed there after going back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vizor-echo-'));
    const src = join(dir, 'echo.asm');
    writeFileSync(src, ['%include "lib/mb.inc"', 'START', '    PRINTLN "echo ready"', 'poll:', '    mov dx, COM1 + 5', '    in al, dx',
      '    test al, 1', '    jz poll', '    mov dx, COM1', '    in al, dx', '    call putc', '    jmp poll', '%include "lib/end.inc"', ''].join('\n'));
    execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', join(dir, 'echo.bin'), src]);
    const echo = new Uint8Array(readFileSync(join(dir, 'echo.bin')));
    const e = new Engine(realCore(), 16 << 20, { mode: 'hypervisor', vms: 2, cpu: 'vtx', paging: 'shadow', sched: 'rr', focusVm: 1 });
    e.load(echo, { kind: 'multiboot' });
    const vms = e.hvFocus!.hv.vms;
    e.run(20_000);
    const typedAt = e.instructions;
    e.typeSerial('hi');
    e.run(20_000);
    expect(vms[1]!.serialText).toBe('echo ready\nhi');
    expect(vms[0]!.serialText).toBe('echo ready\n');
    const end = { n: e.instructions, vm1: JSON.stringify(vms[1]!.cpu.getState()), vm0: JSON.stringify(vms[0]!.cpu.getState()) };
    // Back before the input (the console loses it), then forward again: it is echoed again, the same.
    expect(e.seek(typedAt - 500).kind).toBe('target');
    expect(vms[1]!.serialText).toBe('echo ready\n');
    expect(e.seek(end.n).kind).toBe('target');
    expect(vms[1]!.serialText).toBe('echo ready\nhi');
    expect({ n: e.instructions, vm1: JSON.stringify(vms[1]!.cpu.getState()), vm0: JSON.stringify(vms[0]!.cpu.getState()) }).toEqual(end);
    e.dispose();
  });
});
