// The UI's state classes driven by the real worker host (machine, assembler, debugger) in-process:
// what the views read after load, step, step back, breakpoints and a run to the end.
import { describe, expect, it } from 'vitest';
import { flushSync } from 'svelte';
import { MachineClient, type WorkerLike } from '../../src/ui/state/machine-client.ts';
import { Session, changedRegisters } from '../../src/ui/state/session.svelte.ts';
import { Breakpoints } from '../../src/ui/state/breakpoints.svelte.ts';
import { MachineHost } from '../../src/worker/host.ts';
import { realCore } from '../../src/worker/core.ts';
import type { Request, WorkerMessage } from '../../src/worker/protocol.ts';
import { DEFAULT_EXAMPLE, EXAMPLES } from '../../src/ui/examples/index.ts';

/** A Worker stand-in: requests go to a MachineHost on the same thread, answers come back async like postMessage. */
function inProcessWorker(): WorkerLike {
  const listeners: ((ev: MessageEvent<WorkerMessage>) => void)[] = [];
  const host = new MachineHost(
    realCore(),
    (msg) => setTimeout(() => listeners.forEach((l) => l({ data: msg } as MessageEvent<WorkerMessage>))),
    (fn, delay) => setTimeout(fn, delay),
  );
  return {
    postMessage: (msg) => setTimeout(() => host.handle(msg as Request)),
    addEventListener: (_type, fn) => listeners.push(fn),
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    flushSync();
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function loadedSession(): Promise<Session> {
  const s = new Session(new MachineClient(inProcessWorker()));
  await until(() => s.state === 'no-program', 'ready');
  expect(await s.load(DEFAULT_EXAMPLE.files, DEFAULT_EXAMPLE.main, { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(true);
  await until(() => s.state === 'paused', 'the first stop');
  return s;
}

describe('Session over the real machine', () => {
  it('loads the hello kernel and maps EIP to its source line', async () => {
    const s = await loadedSession();
    expect(s.cpu!.eip).toBe(0x100020);
    expect(s.currentLine).toEqual({ file: 'hello.asm', line: 20 });
    expect(s.disasm[0]).toMatchObject({ address: 0x100020, label: '_start' });
    expect(s.changed.size).toBe(0);
  });

  it('is loading from the request to the first stop, and counts the stops', async () => {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    const loaded = s.load(DEFAULT_EXAMPLE.files, DEFAULT_EXAMPLE.main, { memoryMiB: 8, boot: { kind: 'multiboot' } });
    expect(s.loading).toBe(true);
    expect(await loaded).toBe(true);
    await until(() => s.stopReason === 'loaded', 'the first stop');
    expect(s.loading).toBe(false);
    expect(s.stops).toBe(1);
    s.step('into');
    await until(() => s.stops === 2, 'the second stop');
    expect(s.loading).toBe(false);
    expect(await s.load([{ name: 'bad.asm', text: 'mov eax,\n' }], 'bad.asm', { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(false);
    expect(s.loading).toBe(false); // a failed load has no stop to wait for
  });

  it('highlights what a step changed and restores it on step back', async () => {
    const s = await loadedSession();
    s.step('into');
    await until(() => s.snapshot!.instructions === 1, 'one step');
    expect(s.cpu!.esp).not.toBe(s.previous!.cpu.esp);
    expect([...s.changed].sort()).toEqual(['eip', 'esp']);
    expect(s.currentLine?.line).toBe(21);
    s.step('back');
    await until(() => s.snapshot!.instructions === 0, 'the step back');
    expect(s.cpu!.eip).toBe(0x100020);
    expect(s.cpu!.esp).toBe(0x6f08);
  });

  it('stops at a source breakpoint, then runs to the end with the serial output', async () => {
    const s = await loadedSession();
    const bps = new Breakpoints();
    bps.toggle('hello.asm', 25); // mul ebx
    s.setBreakpoints(bps.resolve(s.loadedMap));
    s.continue();
    await until(() => s.stopReason === 'breakpoint', 'the breakpoint');
    expect(s.cpu!.eip).toBe(0x100039);
    expect(s.serial).toBe('Hello from vizor! 6 * 7 = ');
    s.continue();
    await until(() => s.state === 'finished', 'the end');
    expect(s.serial).toBe('Hello from vizor! 6 * 7 = 42\n');
    expect(s.message).toContain('debug-exit');
    expect(s.events.some((e) => e.kind === 'io' && e.port === 0xf4)).toBe(true);
  });

  it('watches memory regions relative to registers (the stack follows ESP)', async () => {
    const s = await loadedSession();
    s.watch('stack', { address: 0, length: 16, space: 'linear', relativeTo: 'esp' });
    s.step('over'); // mov esp, stack_top
    s.step('over'); // mov esi, message
    s.step('into'); // call puts: pushes the return address
    await until(() => s.snapshot!.instructions === 3, 'three steps');
    const stack = s.regions['stack'];
    expect(stack.address).toBe(s.cpu!.esp);
    expect(stack.bytes[0] | (stack.bytes[1] << 8) | (stack.bytes[2] << 16) | (stack.bytes[3] << 24)).toBe(0x10002f);
  });
});

const ECHO = `bits 32
org 0x100000
    dd 0x1BADB002, 0x00010000, -(0x1BADB002 + 0x00010000)
    dd 0x100000, 0x100000, end, end, start
start:
    mov dx, 0x3FD          ; line status
.wait:
    in al, dx
    test al, 1             ; data ready?
    jz .wait
    mov dx, 0x3F8
    in al, dx              ; the byte typed
    out dx, al             ; echo it
    cmp al, '!'
    je .bye
    mov dx, 0x3FD
    jmp .wait
.bye:
    mov al, 0
    out 0xF4, al
end:
`;

describe('the serial console', () => {
  it('sends what is typed to the guest UART (an echo kernel), and replays it after a step back', async () => {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    expect(await s.load([{ name: 'echo.asm', text: ECHO }], 'echo.asm', { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(true);
    await until(() => s.state === 'paused', 'the first stop');
    s.typeSerial('hi!');
    s.continue();
    await until(() => s.state === 'finished', 'the echo of "!"');
    expect(s.serial).toBe('hi!');
    const end = s.snapshot!.instructions;
    s.seek(Math.floor(end / 2));
    await until(() => s.snapshot!.instructions === Math.floor(end / 2), 'going back');
    s.continue();
    await until(() => s.state === 'finished', 'the replayed end');
    expect(s.serial).toBe('hi!');
    expect(s.snapshot!.instructions).toBe(end);
  });
});

describe('a project of several files', () => {
  it('assembles %include files from the project, maps lines to each file, and reports errors where they are', async () => {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    const main = ECHO.replace('start:\n', 'start:\n    call nothing\n').replace('end:\n', '%include "lib.inc"\nend:\n');
    const files = [{ name: 'main.asm', text: main }, { name: 'lib.inc', text: 'nothing:\n    ret\n' }];
    expect(await s.load(files, 'main.asm', { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(true);
    await until(() => s.state === 'paused', 'the first stop');
    s.step('into');
    await until(() => s.currentLine?.file === 'lib.inc', 'stepping into the included file');
    expect(s.currentLine).toEqual({ file: 'lib.inc', line: 2 });
    await s.assemble([files[0], { name: 'lib.inc', text: 'nothing:\n    mov eax, missing\n' }], 'main.asm');
    expect(s.diagnostics).toEqual([expect.objectContaining({ file: 'lib.inc', line: 2, severity: 'error' })]);
  });
});

describe('opening a binary image', () => {
  it('boots an image assembled elsewhere (here by vizor itself), without source lines', async () => {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    const image = realCore().assemble(DEFAULT_EXAMPLE.files, DEFAULT_EXAMPLE.main).bytes!;
    expect(await s.loadImage('hello.bin', image, { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(true);
    await until(() => s.state === 'paused', 'the first stop');
    expect(s.cpu!.eip).toBe(0x100020);
    expect(s.currentLine).toBeNull();
    s.continue();
    await until(() => s.state === 'finished', 'the end');
    expect(s.serial).toBe('Hello from vizor! 6 * 7 = 42\n');
  });

  it('reports a bad image clearly', async () => {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    expect(await s.loadImage('junk.bin', new Uint8Array(64), { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(false);
    expect(s.message).toMatch(/cannot load junk\.bin: .*[Mm]ultiboot/);
  });
});

describe('event breakpoints and watchpoints', () => {
  async function pagefaultSession(): Promise<Session> {
    const s = new Session(new MachineClient(inProcessWorker()));
    await until(() => s.state === 'no-program', 'ready');
    const ex = EXAMPLES.find((e) => e.id === 'pagefault')!;
    expect(await s.load(ex.files, ex.main, { memoryMiB: 8, boot: { kind: 'multiboot' } })).toBe(true);
    await until(() => s.state === 'paused', 'the first stop');
    return s;
  }

  it('stops on a page-fault exception event, with CR2 set', async () => {
    const s = await pagefaultSession();
    s.setEventBreakpoints([{ kind: 'exception' }]);
    s.continue();
    await until(() => s.stopReason === 'breakpoint', 'the event breakpoint');
    expect(s.message).toContain('event breakpoint (exception)');
    expect(s.cpu!.cr2).toBe(0x800000);
    expect(s.serial).toBe('paging is on\n');
  });

  it.each([
    ['a condition: exception vector=14 stops at the fault, vector=13 never', { kind: 'exception', field: 'vector', value: 13 }],
    ['its own name when it stops, even after one the schema refused', { kind: 'exception', field: 'nosuchfield', value: 1 }],
  ] as const)('an event breakpoint with %s', async (_what, before) => {
    const s = await pagefaultSession();
    s.setEventBreakpoints([before, { kind: 'exception', field: 'vector', value: 14 }]);
    s.continue();
    await until(() => s.stopReason === 'breakpoint', 'the event breakpoint');
    expect(s.message).toContain('event breakpoint (exception vector=14)');
    expect(s.cpu!.cr2).toBe(0x800000);
  });

  it('stops after the instruction that writes a watched address', async () => {
    const s = await pagefaultSession();
    const pd = s.loadedMap!.symbols.find((x) => x.name === 'page_directory')!.address;
    s.setWatchpoints([{ address: pd, length: 4, kind: 'write' }]);
    s.continue();
    await until(() => s.stopReason === 'breakpoint', 'the watchpoint');
    expect(s.message).toContain('watchpoint');
    expect(s.currentLine?.line).toBe(35); // line 34 `mov dword [page_directory], ...` wrote it; stopped before line 35
  });
});

describe('changedRegisters', () => {
  it('is empty without a previous state', () => {
    expect(changedRegisters(null, null).size).toBe(0);
  });
});

describe('the breakpoints list state', () => {
  it('keeps event breakpoints as kind + field = value, once each, and sends only the enabled ones', () => {
    const bps = new Breakpoints();
    const hidden = bps.addEvent({ kind: 'pagefault', field: 'outcome', value: 'hidden' });
    expect(hidden.label).toBe('pagefault outcome=hidden');
    expect(bps.addEvent({ kind: 'pagefault', field: 'outcome', value: 'hidden' }).id).toBe(hidden.id);
    bps.addEvent({ kind: 'exception', field: 'vector', value: 13 });
    bps.addEvent({ kind: 'io', field: 'port', value: 0x3f8 });
    expect(bps.events.map((e) => e.label)).toEqual(['pagefault outcome=hidden', 'exception vector=13', 'io port=0x3f8']);
    bps.events[1]!.enabled = false;
    expect(bps.eventSpecs()).toEqual([{ kind: 'pagefault', field: 'outcome', value: 'hidden' }, { kind: 'io', field: 'port', value: 0x3f8 }]);
    expect(() => bps.addEvent({ kind: 'pagefault', field: 'outcome', value: 'hiden' })).toThrow(/one of bare, hidden/);
    bps.removeEvent(hidden.id);
    expect(bps.events).toHaveLength(2);
  });

  it('a line of a vstart section resolves to an offset in CS', () => {
    const bps = new Breakpoints();
    bps.toggle('k.asm', 3);
    bps.toggle('k.asm', 9);
    const map = {
      symbols: [],
      lines: [
        { address: 0x7c00, length: 1, file: 'k.asm', line: 3, code: true },
        { address: 0x19e, length: 2, file: 'k.asm', line: 9, code: true, segmentRelative: true },
      ],
    };
    expect(bps.resolve(map).map(({ address, offset }) => ({ address, offset }))).toEqual([{ address: 0x7c00, offset: undefined }, { address: 0x19e, offset: true }]);
  });
});
