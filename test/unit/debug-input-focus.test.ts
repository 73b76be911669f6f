// Typed input under the hypervisor is part of the whole host's history, whichever vCPU the debugger
// follows: type into VM 1 while debugging it, switch the focus to VM 0, go back to before the input
// and forward again, and VM 1 receives the same bytes at the same point of its own execution (so
// every VM's registers, screen and console, and the event stream position, are those of a run that
// never went back). Both directions of the switch, and input typed into both VMs.
// Kernels (assembled by NASM): a polling serial echo, and test/unit/debug-input-kernel.asm, which
// waits in HLT and mixes each input with the timer tick it arrived at (ESI), so an input replayed
// at another moment shows.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src/worker/engine.ts';
import { realCore } from '../../src/worker/core.ts';

const KERNELS = join(import.meta.dirname, '../../fixtures/kernels');
let echo: Uint8Array;
let mixer: Uint8Array;

beforeAll(() => {
  const dir = mkdtempSync(join(tmpdir(), 'vizor-input-focus-'));
  writeFileSync(join(dir, 'echo.asm'), ['%include "lib/mb.inc"', 'START', '    PRINTLN "echo ready"', 'poll:', '    mov dx, COM1 + 5', '    in al, dx',
    '    test al, 1', '    jz poll', '    mov dx, COM1', '    in al, dx', '    call putc', '    jmp poll', '%include "lib/end.inc"', ''].join('\n'));
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', join(dir, 'echo.bin'), join(dir, 'echo.asm')]);
  echo = new Uint8Array(readFileSync(join(dir, 'echo.bin')));
  execFileSync('nasm', ['-f', 'bin', `-i${KERNELS}/`, '-o', join(dir, 'mixer.bin'), join(import.meta.dirname, 'debug-input-kernel.asm')]);
  mixer = new Uint8Array(readFileSync(join(dir, 'mixer.bin')));
});

function boot(image: Uint8Array, focusVm: number): Engine {
  const e = new Engine(realCore(), 16 << 20, { mode: 'hypervisor', vms: 2, cpu: 'vtx', paging: 'shadow', sched: 'rr', focusVm });
  e.load(image, { kind: 'multiboot' });
  return e;
}

/** The whole host as the guests and the views see it: every VM's registers, console and screen, and the stream position. */
function host(e: Engine) {
  return {
    seq: e.emitter.nextSeq,
    vms: e.hvFocus!.hv.vms.map((vm) => ({ n: vm.cpu.instructions, state: JSON.stringify(vm.cpu.getState()), serial: vm.serialText, vga: vm.vgaText().join('\n') })),
  };
}

const count = (e: Engine, vm: number): number => e.hvFocus!.hv.vms[vm]!.cpu.instructions;

describe('typed input under the hypervisor, replayed whichever vCPU is focused', () => {
  it('input typed into VM 1, replayed while the debugger follows VM 0', () => {
    const script = (e: Engine): number => {
      e.run(20_000);
      const vm0Before = count(e, 0);
      e.typeSerial('hi');
      e.run(20_000);
      e.focus(0);
      e.run(30_000);
      return vm0Before;
    };
    const e = boot(echo, 1);
    const vm0Before = script(e);
    const end = host(e);
    expect(end.vms[1]!.serial).toBe('echo ready\nhi');
    expect(end.vms[0]!.serial).toBe('echo ready\n');
    const ref = boot(echo, 1);
    script(ref);
    expect(host(ref)).toEqual(end);

    // Following VM 0: back to before VM 1 received the input (its echo is undone), and forward again.
    expect(e.seek(vm0Before - 500).kind).toBe('target');
    expect(e.hvFocus!.hv.vms[1]!.serialText).not.toContain('hi');
    expect(e.seek(end.vms[0]!.n).kind).toBe('target');
    expect(host(e)).toEqual(end);
    // Once more, by steps back over the point and a run forward.
    expect(e.seek(vm0Before + 3).kind).toBe('target');
    for (let i = 0; i < 6; i++) expect(e.stepBack().kind).toBe('target');
    expect(e.run(end.vms[0]!.n - e.instructions).kind).toBe('budget');
    expect(host(e)).toEqual(end);
    e.dispose();
    ref.dispose();
  });

  it('input typed into both VMs, replayed from either focus, the host the same at every stop on the way', () => {
    type Stop = { focus: number; n: number; host: ReturnType<typeof host> };
    const script = (e: Engine): Stop[] => {
      const stops: Stop[] = [];
      const run = (n: number) => {
        e.run(n);
        stops.push({ focus: e.hvFocus!.focus, n: e.instructions, host: host(e) });
      };
      run(15_000);
      e.typeSerial('ab'); // into VM 0
      run(10_000);
      e.focus(1);
      run(12_000);
      e.typeSerial('cd'); // into VM 1
      run(3);
      run(8_000);
      e.focus(0);
      run(5_000);
      e.typeSerial('e'); // into VM 0 again
      run(20_000);
      return stops;
    };
    const e = boot(echo, 0);
    script(e);
    const end = host(e);
    expect(end.vms.map((v) => v.serial)).toEqual(['echo ready\nabe', 'echo ready\ncd']);
    const ref = boot(echo, 0);
    const stops = script(ref);
    expect(host(ref)).toEqual(end);

    // Following VM 0, back before all of it and forward, through its stops.
    expect(e.seek(10_000).kind).toBe('target');
    for (const vm of host(e).vms) expect(vm.serial).not.toMatch(/ready\n./);
    for (const s of stops.filter((s) => s.focus === 0)) {
      expect(e.seek(s.n).kind).toBe('target');
      expect(host(e)).toEqual(s.host);
    }
    // Following VM 1, back before its input (and VM 0's last) and forward, through its stops.
    e.focus(1);
    expect(e.seek(5_000).kind).toBe('target');
    expect(host(e).vms.map((v) => v.serial)).toEqual(['echo ready\nab', 'echo ready\n']);
    for (const s of stops.filter((s) => s.focus === 1)) {
      expect(e.seek(s.n).kind).toBe('target');
      expect(host(e)).toEqual(s.host);
    }
    expect(e.seek(end.vms[1]!.n).kind).toBe('target');
    expect(host(e)).toEqual(end);
    e.dispose();
    ref.dispose();
  });

  it('a VM waiting in HLT gets its keys and bytes at the same tick after going back with the other VM focused', () => {
    const A = [0x1e, 0x9e], B = [0x30, 0xb0];
    const script = (e: Engine): void => {
      expect(e.run(60_000).kind).toBe('budget');
      e.pressKeys(A);           // into VM 1
      e.run(3_000);
      e.typeSerial('x');
      e.focus(0);
      e.run(40_000);
      e.focus(1);
      e.pressKeys(B);           // into VM 1, typed while the host stood at a VM 0 boundary
      e.focus(0);
      e.typeSerial('q');        // into VM 0
      e.run(50_000);
    };
    const e = boot(mixer, 1);
    script(e);
    const end = host(e);
    expect(end.vms[1]!.serial).toBe('type something\nx');
    expect(end.vms[1]!.vga).toMatch(/ab/);
    expect(end.vms[0]!.serial).toBe('type something\nq');
    const ref = boot(mixer, 1);
    script(ref);
    expect(host(ref)).toEqual(end);

    expect(e.seek(20_000).kind).toBe('target');
    for (const vm of host(e).vms) expect(vm.serial).not.toMatch(/something\n./);
    expect(e.seek(end.vms[0]!.n).kind).toBe('target');
    expect(host(e)).toEqual(end);
    // Back again, and a run forward (no snapshot to restore on the way: the host passes every input's place).
    expect(e.seek(20_000).kind).toBe('target');
    expect(e.run(end.vms[0]!.n - e.instructions).kind).toBe('budget');
    expect(host(e)).toEqual(end);
    e.focus(1);
    expect(e.seek(30_000).kind).toBe('target');
    expect(e.seek(end.vms[1]!.n).kind).toBe('target');
    expect(host(e)).toEqual(end);
    e.dispose();
    ref.dispose();
  });
});
