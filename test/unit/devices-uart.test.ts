import { describe, expect, it } from 'vitest';
import { Uart16550 } from '../../src/machine/devices/uart16550.ts';
import { PortBus } from '../../src/machine/io.ts';

function setup(input: number[] = []) {
  const uart = new Uart16550();
  const io = new PortBus();
  uart.register(io);
  const out: number[] = [];
  const irq: boolean[] = [];
  uart.output = (b) => out.push(b);
  uart.input = () => input.shift();
  uart.setIrq = (h) => irq.push(h);
  uart.reset();
  return { uart, io, out, irq, input };
}

describe('16550 UART', () => {
  it('starts as QEMU leaves COM1: THR empty, no interrupt, modem lines up', () => {
    const { io } = setup();
    expect(io.read(0x3fd, 1)).toBe(0x60);
    expect(io.read(0x3fa, 1)).toBe(0x01);
    expect(io.read(0x3fe, 1)).toBe(0xb0);
    expect(io.read(0x3fc, 1)).toBe(0x08);
  });

  it('transmits THR writes at once and keeps LSR THRE|TEMT set', () => {
    const { io, out } = setup();
    for (const ch of 'hi\n') io.write(0x3f8, 1, ch.charCodeAt(0));
    expect(String.fromCharCode(...out)).toBe('hi\n');
    expect(io.read(0x3fd, 1) & 0x60).toBe(0x60);
  });

  it('DLAB switches ports 0/1 to the divisor latch', () => {
    const { io, out } = setup();
    io.write(0x3fb, 1, 0x83);
    io.write(0x3f8, 1, 0x01);
    io.write(0x3f9, 1, 0x00);
    expect(io.read(0x3f8, 1)).toBe(0x01);
    expect(out).toEqual([]); // not transmitted
    io.write(0x3fb, 1, 0x03);
    expect(io.read(0x3fb, 1)).toBe(0x03);
    expect(io.read(0x3f9, 1)).toBe(0x00); // IER again
  });

  it('THR-empty interrupt: raised when enabled, cleared by reading IIR, raised again after a write', () => {
    const { io, irq } = setup();
    io.write(0x3f9, 1, 0x02);
    expect(irq.at(-1)).toBe(true);
    expect(io.read(0x3fa, 1)).toBe(0x02);
    expect(irq.at(-1)).toBe(false);
    expect(io.read(0x3fa, 1)).toBe(0x01);
    io.write(0x3f8, 1, 0x41);
    expect(irq.at(-1)).toBe(true);
  });

  it('receives from the input callback: LSR.DR, RBR, and the RX interrupt', () => {
    const { io, irq } = setup([0x61, 0x62]);
    io.write(0x3f9, 1, 0x01);
    expect(io.read(0x3fd, 1) & 1).toBe(1);
    expect(irq.at(-1)).toBe(true);
    expect(io.read(0x3fa, 1) & 0x0f).toBe(0x04);
    expect(io.read(0x3f8, 1)).toBe(0x61);
    expect(io.read(0x3f8, 1)).toBe(0x62);
    expect(io.read(0x3fd, 1) & 1).toBe(0);
    expect(irq.at(-1)).toBe(false);
  });

  it('FIFO mode: IIR shows 0xC0, bytes queue up to 16, overrun beyond', () => {
    const { uart, io } = setup();
    io.write(0x3fa, 1, 0x07);
    expect(io.read(0x3fa, 1) & 0xc0).toBe(0xc0);
    for (let i = 0; i < 17; i++) uart.receive(i);
    expect(io.read(0x3fd, 1) & 0x03).toBe(0x03); // DR + OE
    expect(io.read(0x3fd, 1) & 0x02).toBe(0); // OE clears on read
    const got: number[] = [];
    while (io.read(0x3fd, 1) & 1) got.push(io.read(0x3f8, 1));
    expect(got).toEqual([...Array(16).keys()]);
  });

  it('loopback: transmitted bytes come back, MSR mirrors MCR', () => {
    const { io, out } = setup();
    io.write(0x3fc, 1, 0x1f);
    io.write(0x3f8, 1, 0xae);
    expect(out).toEqual([]);
    expect(io.read(0x3f8, 1)).toBe(0xae);
    expect(io.read(0x3fe, 1)).toBe(0xf0);
    io.write(0x3fc, 1, 0x10);
    expect(io.read(0x3fe, 1)).toBe(0x00);
  });

  it('scratch register holds a byte', () => {
    const { io } = setup();
    io.write(0x3ff, 1, 0x5a);
    expect(io.read(0x3ff, 1)).toBe(0x5a);
  });
});
