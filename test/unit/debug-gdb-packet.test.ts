// The GDB remote protocol pieces without a socket: framing, the target description, and a
// GdbSession over the fake machine (acks, no-ack mode, stop replies, watch reports, Ctrl-C).
import { describe, expect, it } from 'vitest';
import { checksum, escape, frame, fromHex, leHex, PacketReader, parseLeHex, toHex, unescape } from '../../src/gdb/packet.ts';
import { allRegistersHex, REG_SIZES, TARGET_XML } from '../../src/gdb/target.ts';
import { GdbSession } from '../../src/gdb/stub.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { FakeMachine } from './debug-fake-machine.ts';

describe('packet framing', () => {
  it('frames with the modulo-256 checksum and escapes $ # } *', () => {
    expect(frame('OK')).toBe('$OK#9a');
    expect(checksum('g')).toBe(0x67);
    expect(escape('a$b#c}d*')).toBe('a}\x04b}\x03c}]d}\x0a');
    expect(unescape(escape('a$b#c}d*'))).toBe('a$b#c}d*');
  });
  it('splits a stream into packets, acks and interrupts, across chunk boundaries', () => {
    const r = new PacketReader();
    expect(r.feed('+$qSupported:multiprocess+#c')).toEqual([{ type: 'ack' }]);
    expect(r.feed('6\x03$g#67-$m0,4#00')).toEqual([
      { type: 'packet', payload: 'qSupported:multiprocess+' },
      { type: 'interrupt' },
      { type: 'packet', payload: 'g' },
      { type: 'nak' },
      { type: 'bad-checksum', payload: 'm0,4' },
    ]);
    expect(r.feed(frame('X100,2:#}'))).toEqual([{ type: 'packet', payload: 'X100,2:#}' }]);
  });
  it('hex helpers', () => {
    expect(leHex(0x12345678, 4)).toBe('78563412');
    expect(parseLeHex('78563412')).toBe(0x12345678);
    expect(toHex(fromHex('00ff7a'))).toBe('00ff7a');
    expect(() => fromHex('0g')).toThrow(/bad hex/);
  });
  it('the target description names the i386 core registers in GDB order; g is 176 bytes', () => {
    const names = [...TARGET_XML.matchAll(/<reg name="(\w+)"/g)].map((m) => m[1]);
    expect(names.slice(0, 16)).toEqual(['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eip', 'eflags', 'cs', 'ss', 'ds', 'es', 'fs', 'gs']);
    expect(names).toHaveLength(32);
    expect(TARGET_XML).toContain('<feature name="org.gnu.gdb.i386.core">');
    expect(REG_SIZES.reduce((a, b) => a + b, 0)).toBe(176);
  });
});

/** A session over the fake machine running `program` (NASM-free: raw bytes at 0x1000). */
function session(program: number[]): { s: GdbSession; sent: string[]; m: FakeMachine; d: Debugger; until: (re: RegExp) => Promise<string> } {
  const m = new FakeMachine(new Uint8Array(program), 0x1000);
  const d = new Debugger(m, { snapshotInterval: 100 });
  const sent: string[] = [];
  const s = new GdbSession(d, (x) => sent.push(x), { chunk: 1000 });
  const until = async (re: RegExp): Promise<string> => {
    for (let i = 0; i < 500; i++) {
      const hit = sent.find((x) => re.test(x));
      if (hit) return hit;
      await new Promise((r) => setImmediate(r));
    }
    throw new Error(`no reply matching ${re}; sent: ${sent.join(' ')}`);
  };
  return { s, sent, m, d, until };
}
const send = (s: GdbSession, payload: string) => s.receive(frame(payload));

describe('GdbSession', () => {
  it('acks, answers queries, switches to no-ack mode', () => {
    const { s, sent, m } = session([0x90, 0x90, 0xf4]);
    send(s, 'qSupported:multiprocess+;swbreak+;hwbreak+');
    expect(sent).toEqual(['+', frame('PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+;QStartNoAckMode+;vContSupported+')]);
    sent.length = 0;
    send(s, 'QStartNoAckMode');
    expect(sent).toEqual(['+', frame('OK')]);
    sent.length = 0;
    send(s, '?');
    send(s, 'g');
    expect(sent[0]).toBe(frame('T05thread:01;'));
    expect(sent[1]).toBe(frame(allRegistersHex(m.cpu.getState())));
    sent.length = 0;
    send(s, 'qXfer:features:read:target.xml:0,20');
    expect(sent[0]).toBe(frame('m' + TARGET_XML.slice(0, 0x20)));
    s.receive('$g#00'); // bad checksum: a nak, even in no-ack mode GDB gets nothing else
  });
  it('Z0 breakpoint + c stops with swbreak; Z2 watch reports the address; bs goes back', async () => {
    // mov eax, 5 ; mov [0x5000], eax ; nop ; nop ; hlt
    const prog = [0xb8, 5, 0, 0, 0, 0xa3, 0, 0x50, 0, 0, 0x90, 0x90, 0xf4];
    const { s, sent, until } = session(prog);
    send(s, 'Z2,5000,4');
    send(s, 'vCont;c');
    expect(await until(/watch:5000;/)).toBe(frame('T05watch:5000;thread:01;'));
    send(s, 'p8');
    expect(sent.at(-1)).toBe(frame(leHex(0x100a, 4)));
    send(s, 'z2,5000,4');
    send(s, 'Z0,100b,1');
    sent.length = 0;
    send(s, 'c');
    expect(await until(/swbreak/)).toBe(frame('T05swbreak:;thread:01;'));
    sent.length = 0;
    send(s, 'bs');
    await until(/T05/);
    send(s, 'p8');
    expect(sent.at(-1)).toBe(frame(leHex(0x100a, 4)));
    send(s, 'm5000,4');
    expect(sent.at(-1)).toBe(frame('05000000'));
    send(s, 'M5000,2:aabb');
    send(s, 'm5000,4');
    expect(sent.at(-1)).toBe(frame('aabb0000'));
  });
  it('Ctrl-C interrupts a running guest with SIGINT', async () => {
    const { s, until, m } = session([0xeb, 0xfe]); // jmp $
    send(s, 'c');
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    s.receive('\x03');
    expect(await until(/T02/)).toBe(frame('T02thread:01;'));
    expect(m.cpu.instructions).toBeGreaterThan(0);
  });
  it('the guest exiting ends the session with W and the QEMU-style status', async () => {
    // mov eax, 0x22 ; out 0xf4, al
    const { s, until } = session([0xb8, 0x22, 0, 0, 0, 0xe6, 0xf4]);
    send(s, 'c');
    expect(await until(/W/)).toBe(frame('W45'));
    expect(await s.ended).toMatchObject({ how: 'exited' });
  });
});
