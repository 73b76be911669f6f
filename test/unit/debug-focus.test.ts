// Switching the debugger's focus between vCPUs under the hypervisor (the app's worker engine): the
// host's schedule does not notice (the run is the one a single focus gives), each vCPU keeps its
// history, and step back after switching away and back lands where an uninterrupted run says.
// Kernel: fixtures/kernels/pit-timer.asm (assembled by NASM) on 2 VMs, VT-x and shadow paging.
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
  const out = join(mkdtempSync(join(tmpdir(), 'vizor-focus-')), 'k.bin');
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', out, join(KERNELS, 'pit-timer.asm')]);
  image = new Uint8Array(readFileSync(out));
});

function boot(focusVm: number): Engine {
  const e = new Engine(realCore(), 16 << 20, { mode: 'hypervisor', vms: 2, cpu: 'vtx', paging: 'shadow', sched: 'rr', focusVm });
  e.load(image, { kind: 'multiboot' });
  return e;
}

/** The whole host as far as the guests can tell: both vCPUs' registers and consoles, the stream position. */
function host(e: Engine) {
  const vms = e.hvFocus!.hv.vms;
  return {
    seq: e.emitter.nextSeq,
    vms: vms.map((vm) => ({ n: vm.cpu.instructions, state: JSON.stringify(vm.cpu.getState()), serial: vm.serialText })),
  };
}

describe('focus switches under the hypervisor', () => {
  it('keep the schedule, and each vCPU its step back', () => {
    const e = boot(1);
    expect(e.run(30_000).kind).toBe('budget');
    e.focus(0);
    expect(e.hvFocus!.focus).toBe(0);
    expect(e.run(20_000).kind).toBe('budget');
    for (let i = 0; i < 5; i++) e.stepInto();
    const vm0At = e.instructions;
    e.focus(1);
    expect(e.run(40_000).kind).toBe('budget');
    const vm1At = e.instructions;

    // One focus all along, run to the same count of VM 1: the same host.
    const ref = boot(1);
    expect(ref.seek(vm1At).kind).toBe('target');
    expect(host(e)).toEqual(host(ref));

    // Step back on VM 1 (its history spans the time VM 0 was debugged): as the reference says.
    expect(e.stepBack().kind).toBe('target');
    expect(e.instructions).toBe(vm1At - 1);
    expect(ref.seek(vm1At - 1).kind).toBe('target');
    expect(host(e)).toEqual(host(ref));
    // Far back, into the time VM 0 had the focus, and forward again.
    const early = vm1At - 45_000;
    expect(e.seek(early).kind).toBe('target');
    expect(ref.seek(early).kind).toBe('target');
    expect(host(e)).toEqual(host(ref));

    // VM 0 again: it stands where the host is now; step back works there too, and again after a switch back and forth.
    e.focus(0);
    const here0 = e.instructions;
    expect(here0).toBeLessThan(vm0At);
    expect(e.instructions).toBeGreaterThan(e.historyStart); // the app enables Back
    expect(e.stepBack().kind).toBe('target');
    expect(e.instructions).toBe(here0 - 1);
    e.focus(1);
    e.focus(0);
    expect(e.stepBack().kind).toBe('target');
    expect(e.instructions).toBe(here0 - 2);
  });

  it('step back after steps on the other VM lands one instruction back, wherever the pause fell (an echo kernel whose IN exits are emulated)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vizor-focus-echo-'));
    writeFileSync(join(dir, 'echo.asm'), ['%include "lib/mb.inc"', 'START', '    PRINTLN "echo ready"', 'poll:', '    mov dx, COM1 + 5', '    in al, dx',
      '    test al, 1', '    jz poll', '    mov dx, COM1', '    in al, dx', '    call putc', '    jmp poll', '%include "lib/end.inc"', ''].join('\n'));
    execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', join(dir, 'echo.bin'), join(dir, 'echo.asm')]);
    const echo = new Uint8Array(readFileSync(join(dir, 'echo.bin')));
    for (let trial = 0; trial < 6; trial++) {
      const e = new Engine(realCore(), 16 << 20, { mode: 'hypervisor', vms: 2, cpu: 'vtx', paging: 'shadow', sched: 'rr', focusVm: 1 });
      e.load(echo, { kind: 'multiboot' });
      e.run(20_000 + ((trial * 7919) % 50_000));
      e.typeSerial('hi');
      e.run(30_000 + ((trial * 104_729) % 400_000));
      e.focus(0);
      for (let i = 0; i < 3; i++) e.stepInto();
      e.focus(1);
      const at1 = e.instructions;
      expect(e.stepBack().kind).toBe('target');
      expect(e.instructions).toBe(at1 - 1);
      e.focus(0);
      const at0 = e.instructions;
      expect(e.stepBack().kind).toBe('target');
      expect(e.instructions).toBe(at0 - 1);
      e.dispose();
    }
  });
});
