import { describe, expect, it } from 'vitest';
import { Ps2Controller } from '../../src/machine/devices/ps2.ts';
import { PortBus } from '../../src/machine/io.ts';

function setup() {
  const ps2 = new Ps2Controller();
  const io = new PortBus();
  ps2.register(io);
  const irq: boolean[] = [];
  const events: string[] = [];
  ps2.setIrq1 = (h) => irq.push(h);
  ps2.onA20 = (on) => events.push(on ? 'a20-on' : 'a20-off');
  ps2.onReset = () => events.push('reset');
  ps2.reset();
  const drain = () => { const b: number[] = []; while (io.read(0x64, 1) & 1) b.push(io.read(0x60, 1)); return b; };
  return { ps2, io, irq, events, drain };
}

describe('8042 keyboard controller and PS/2 keyboard', () => {
  it('self test, interface test and the command byte', () => {
    const { io, drain } = setup();
    io.write(0x64, 1, 0xaa);
    expect(drain()).toEqual([0x55]);
    io.write(0x64, 1, 0xab);
    expect(drain()).toEqual([0x00]);
    io.write(0x64, 1, 0x60);
    io.write(0x60, 1, 0x45);
    io.write(0x64, 1, 0x20);
    expect(drain()).toEqual([0x45]);
    expect(io.read(0x64, 1) & 0x04).toBe(0x04); // system flag from the command byte
  });

  it('key presses arrive as scan code set 1 make/break codes on IRQ 1', () => {
    const { ps2, irq, drain } = setup();
    ps2.typeText('aB');
    expect(irq.at(-1)).toBe(true);
    expect(drain()).toEqual([0x1e, 0x9e, 0x2a, 0x30, 0xb0, 0xaa]);
    expect(irq.at(-1)).toBe(false);
    ps2.pressKey('ArrowUp');
    expect(drain()).toEqual([0xe0, 0x48, 0xe0, 0xc8]);
  });

  it('keyboard commands: reset, echo, identify, LEDs', () => {
    const { io, drain } = setup();
    io.write(0x60, 1, 0xff);
    expect(drain()).toEqual([0xfa, 0xaa]);
    io.write(0x60, 1, 0xee);
    expect(drain()).toEqual([0xee]);
    io.write(0x60, 1, 0xf2);
    expect(drain()).toEqual([0xfa, 0xab, 0x41]);
    io.write(0x60, 1, 0xed);
    io.write(0x60, 1, 0x07);
    expect(drain()).toEqual([0xfa, 0xfa]);
  });

  it('A20 through the output port (D1h) and DDh/DFh', () => {
    const { io, events, drain } = setup();
    io.write(0x64, 1, 0xd1);
    io.write(0x60, 1, 0xdd); // bit 1 clear: A20 off
    io.write(0x64, 1, 0xd0);
    expect(drain()[0]! & 0x02).toBe(0);
    io.write(0x64, 1, 0xdf);
    expect(events).toEqual(['a20-off', 'a20-on']);
  });

  it('pulse reset (FEh) resets the CPU', () => {
    const { io, events } = setup();
    io.write(0x64, 1, 0xfe);
    expect(events).toEqual(['reset']);
  });

  it('disabling the keyboard (ADh) holds data back until AEh', () => {
    const { ps2, io, drain } = setup();
    io.write(0x64, 1, 0xad);
    ps2.pressKey('x');
    expect(io.read(0x64, 1) & 1).toBe(0);
    io.write(0x64, 1, 0xae);
    expect(drain()).toEqual([0x2d, 0xad]);
  });
});
