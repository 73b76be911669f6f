// Physical memory: RAM access widths, reads outside RAM give all ones, MMIO dispatch, bulk
// writes and reads, snapshots of non-zero pages, and decoded code dropped when its bytes change
// (by the guest itself or by a loader/DMA through writeBytes).
import { describe, expect, it } from 'vitest';
import { Memory } from '../../src/machine/memory.ts';
import { assemble, flat32, makeCpu } from './cpu-harness.ts';

describe('Memory', () => {
  it('reads and writes little-endian at every width and alignment', () => {
    const m = new Memory(1 << 20);
    m.write32(0x1001, 0x11223344);
    expect(m.read8(0x1001)).toBe(0x44);
    expect(m.read16(0x1002)).toBe(0x2233);
    expect(m.read32(0x1001)).toBe(0x11223344);
    m.write16(0xffff, 0xabcd);
    expect(m.read8(0x10000)).toBe(0xab);
  });
  it('outside RAM: reads are all ones, writes vanish', () => {
    const m = new Memory(1 << 20);
    expect(m.read8(0x200000)).toBe(0xff);
    expect(m.read32(0xfffffffc)).toBe(0xffffffff);
    m.write32(0x200000, 5);
    expect(m.read32(0x200000)).toBe(0xffffffff);
  });
  it('dispatches MMIO ranges to their handler and hides RAM under them', () => {
    const m = new Memory(1 << 20);
    const log: string[] = [];
    m.mapMmio(0xa0000, 0x1000, {
      read: (a, size) => {
        log.push(`r${size}@${a.toString(16)}`);
        return 0x5a;
      },
      write: (a, size, v) => {
        log.push(`w${size}@${a.toString(16)}=${v}`);
      },
    });
    expect(m.read8(0xa0010)).toBe(0x5a);
    m.write16(0xa0020, 7);
    m.writeBytes(0xa0ffe, new Uint8Array([1, 2, 3]));
    expect(log).toEqual(['r1@a0010', 'w2@a0020=7', 'w1@a0ffe=1', 'w1@a0fff=2']);
    expect(m.read8(0xa1000)).toBe(3);
  });
  it('snapshots hold only non-zero pages and restore exactly', () => {
    const m = new Memory(1 << 20);
    m.write32(0x3000, 1);
    m.write32(0x9ffc, 2);
    const s = m.saveSnapshot();
    expect([...s.pages.keys()]).toEqual([3, 9]);
    m.write32(0x3000, 99);
    m.write32(0x5000, 98);
    m.loadSnapshot(s);
    expect(m.read32(0x3000)).toBe(1);
    expect(m.read32(0x5000)).toBe(0);
    expect(m.read32(0x9ffc)).toBe(2);
  });
});

describe('decoded code follows the bytes', () => {
  it('a guest that patches an instruction it runs later executes the new bytes', () => {
    const h = makeCpu();
    h.memory.writeBytes(
      0x10000,
      assemble(`
      mov ecx, 40
    again:
      call patched          ; hot: compiled after a few runs
      mov [target + 1], ecx ; patch the immediate of "mov eax, imm32"
      dec ecx
      jnz again
      hlt
    patched:
    target:
      mov eax, 0x12345678
      ret
    `),
    );
    flat32(h.cpu, h.memory);
    expect(h.cpu.run(10000)).toBe('halt');
    expect(h.cpu.getState().eax).toBe(2); // the last call ran the bytes written with ECX = 2
  });
  it('writeBytes from outside (a loader or DMA) drops the decoded code of the page', () => {
    const h = makeCpu();
    h.memory.writeBytes(0x10000, assemble('mov eax, 1\nhlt'));
    flat32(h.cpu, h.memory);
    h.cpu.run(10);
    expect(h.cpu.getState().eax).toBe(1);
    h.memory.writeBytes(0x10000, assemble('mov eax, 2\nhlt'));
    h.cpu.setState({ ...h.cpu.getState(), eip: 0x10000, halted: false });
    h.cpu.run(10);
    expect(h.cpu.getState().eax).toBe(2);
  });
});
