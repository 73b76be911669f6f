import { describe, expect, it } from 'vitest';
import { Pic } from '../../src/machine/devices/pic.ts';
import { PortBus } from '../../src/machine/io.ts';

function setup(masterMask = 0x00, slaveMask = 0x00) {
  const pic = new Pic();
  const io = new PortBus();
  pic.register(io);
  let changes = 0;
  pic.onChange = () => changes++;
  // ICW1..4 through the ports, as a kernel does: master at 0x20, slave at 0x28.
  for (const [cmd, data, base, wiring] of [[0x20, 0x21, 0x20, 4], [0xa0, 0xa1, 0x28, 2]]) {
    io.write(cmd, 1, 0x11);
    io.write(data, 1, base);
    io.write(data, 1, wiring);
    io.write(data, 1, 0x01);
  }
  io.write(0x21, 1, masterMask);
  io.write(0xa1, 1, slaveMask);
  return { pic, io, changes: () => changes };
}

describe('8259A PIC pair', () => {
  it('delivers an edge-triggered IRQ at the programmed vector and keeps it in service until EOI', () => {
    const { pic, io } = setup();
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(3, true);
    expect(pic.hasInterrupt()).toBe(true);
    expect(io.read(0x20, 1)).toBe(0x08); // IRR
    expect(pic.acknowledge()).toBe(0x23);
    expect(pic.hasInterrupt()).toBe(false);
    io.write(0x20, 1, 0x0b); // OCW3: read ISR
    expect(io.read(0x20, 1)).toBe(0x08);
    // Level still high: no new edge, no new request after EOI.
    io.write(0x20, 1, 0x20);
    expect(io.read(0x20, 1)).toBe(0x00);
    expect(pic.hasInterrupt()).toBe(false);
    pic.setIrq(3, false);
    pic.setIrq(3, true);
    expect(pic.hasInterrupt()).toBe(true);
  });

  it('masks through IMR and reads IMR back', () => {
    const { pic, io } = setup(0x01);
    expect(io.read(0x21, 1)).toBe(0x01);
    pic.pulseIrq(0);
    expect(pic.hasInterrupt()).toBe(false);
    io.write(0x21, 1, 0x00);
    expect(pic.hasInterrupt()).toBe(true); // the request stayed latched in IRR
    expect(pic.acknowledge()).toBe(0x20);
  });

  it('prioritises lower IRQ numbers and nests higher-priority requests', () => {
    const { pic, io } = setup();
    pic.pulseIrq(5);
    pic.pulseIrq(1);
    expect(pic.acknowledge()).toBe(0x21);
    // IRQ 5 waits while IRQ 1 is in service (lower priority).
    expect(pic.hasInterrupt()).toBe(false);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x20); // higher priority nests
    io.write(0x20, 1, 0x20); // EOI clears IRQ 0 (highest in service)
    io.write(0x20, 1, 0x20); // then IRQ 1
    expect(pic.acknowledge()).toBe(0x25);
  });

  it('cascades slave IRQs through IRQ 2 and needs EOI on both chips', () => {
    const { pic, io } = setup();
    pic.pulseIrq(12);
    expect(pic.hasInterrupt()).toBe(true);
    expect(pic.acknowledge()).toBe(0x2c);
    io.write(0x20, 1, 0x0b);
    expect(io.read(0x20, 1)).toBe(0x04); // master: IRQ2 in service
    io.write(0xa0, 1, 0x0b);
    expect(io.read(0xa0, 1)).toBe(0x10); // slave: IRQ4 (12) in service
    io.write(0xa0, 1, 0x20);
    io.write(0x20, 1, 0x20);
    expect(io.read(0x20, 1)).toBe(0);
  });

  it('answers an acknowledge with nothing pending with the spurious vector base+7 and no ISR bit', () => {
    const { pic, io } = setup();
    expect(pic.acknowledge()).toBe(0x27);
    io.write(0x20, 1, 0x0b);
    expect(io.read(0x20, 1)).toBe(0);
    expect(pic.spurious).toBe(1);
  });

  it('auto-EOI mode (ICW4 bit 1) leaves nothing in service', () => {
    const pic = new Pic();
    const io = new PortBus();
    pic.register(io);
    io.write(0x20, 1, 0x13); // single, ICW4
    io.write(0x21, 1, 0x40);
    io.write(0x21, 1, 0x03); // 8086 + AEOI
    io.write(0x21, 1, 0x00);
    pic.pulseIrq(2);
    expect(pic.acknowledge()).toBe(0x42);
    io.write(0x20, 1, 0x0b);
    expect(io.read(0x20, 1)).toBe(0);
  });

  it('specific EOI and poll mode', () => {
    const { pic, io } = setup();
    pic.pulseIrq(6);
    pic.pulseIrq(4);
    expect(pic.acknowledge()).toBe(0x24);
    io.write(0x20, 1, 0x64); // specific EOI for IRQ 4
    io.write(0x20, 1, 0x0c); // poll
    expect(io.read(0x20, 1)).toBe(0x86);
    io.write(0x20, 1, 0x0b);
    expect(io.read(0x20, 1)).toBe(0x40); // IRQ 6 in service after the poll
  });

  it('biosInit gives the PC layout: vectors 08h and 70h', () => {
    const pic = new Pic();
    pic.biosInit(0, 0);
    pic.pulseIrq(0);
    expect(pic.acknowledge()).toBe(0x08);
    pic.eoi(0);
    pic.pulseIrq(8);
    expect(pic.acknowledge()).toBe(0x70);
    expect(pic.registers().master.base).toBe(0x08);
  });

  it('saves and restores its state', () => {
    const { pic } = setup();
    pic.pulseIrq(7);
    const s = pic.saveState();
    const other = new Pic();
    other.loadState(s);
    expect(other.acknowledge()).toBe(0x27);
    expect(other.spurious).toBe(0);
  });
});
