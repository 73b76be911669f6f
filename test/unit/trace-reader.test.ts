// The trace reader on corrupt input: every problem is reported with its line number and what is
// wrong, never as an exception. Also: the CLI's `vizor trace summary` on good and bad files.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseTrace, type ParseResult } from '../../src/trace/reader.ts';
import { encodeNdjson, headerLine } from '../../src/trace/ndjson.ts';
import { encodeTraceFile } from '../../src/trace/file.ts';
import { syntheticEvents } from '../../src/trace/synthetic.ts';
import { summarize } from '../../src/trace/summary.ts';
import { command } from '../../src/cli/trace.ts';
import type { TraceEvent } from '../../src/trace/schema.ts';

const HEADER = headerLine({ kernel: 'k' });
const IO = '{"seq":1,"tick":5,"vm":0,"vcpu":0,"kind":"io","port":1016,"size":1,"value":65,"dir":"out"}';
const HALT = '{"seq":2,"tick":9,"vm":0,"vcpu":0,"kind":"halt","eip":4096}';

function errorOf(r: ParseResult): { line: number; message: string } {
  if (r.ok) throw new Error('expected the trace to be rejected');
  return r.error;
}

const lines = (...ls: string[]): string => ls.join('\n') + '\n';

describe('parseTrace accepts', () => {
  it('a header-only trace and a small trace, CRLF line endings too', () => {
    expect(parseTrace(HEADER + '\n')).toMatchObject({ ok: true, events: [] });
    const r = parseTrace(lines(HEADER, IO, HALT).replace(/\n/g, '\r\n'));
    expect(r.ok && r.events.map((e) => e.kind)).toEqual(['io', 'halt']);
  });

  it('a byte-order mark before the header', () => {
    expect(parseTrace(`\uFEFF${HEADER}\n${IO}\n`).ok).toBe(true);
  });

  it('a complete last line without its newline', () => {
    expect(parseTrace(`${HEADER}\n${IO}`).ok).toBe(true);
  });
});

describe('parseTrace rejects, with the line and the reason', () => {
  const cases: [string, string, number, RegExp][] = [
    ['an empty file', '', 1, /empty file/],
    ['a missing header', lines(IO, HALT), 1, /missing header/],
    ['a file that is not a trace', lines('{"hello":1}'), 1, /not a vizor trace/],
    [
      'another schema version',
      lines('{"vizor-trace":2,"params":{}}', IO),
      1,
      /version 2, but this vizor reads version 1/,
    ],
    ['a non-numeric version', lines('{"vizor-trace":"1"}'), 1, /must be the schema version number/],
    ['bad params', lines('{"vizor-trace":1,"params":[1]}'), 1, /"params" must be an object/],
    ['a truncated last line', `${HEADER}\n${IO}\n${HALT.slice(0, 30)}`, 3, /truncated line/],
    ['garbled JSON mid-file', lines(HEADER, IO.slice(0, 30), HALT), 2, /bad JSON/],
    ['a blank line', lines(HEADER, IO, '', HALT), 3, /empty line/],
    ['an unknown kind', lines(HEADER, IO.replace('"io"', '"teleport"')), 2, /unknown event kind "teleport"/],
    ['a kind that is not a string', lines(HEADER, IO.replace('"io"', '7')), 2, /'kind' must be a string/],
    ['a string seq', lines(HEADER, IO.replace('"seq":1', '"seq":"1"')), 2, /'seq' must be an integer/],
    ['a fractional vm', lines(HEADER, IO.replace('"vm":0', '"vm":1.5')), 2, /'vm' must be an integer/],
    ['a negative tick', lines(HEADER, IO.replace('"tick":5', '"tick":-5')), 2, /'tick'/],
    [
      'a port size of 3',
      lines(HEADER, IO.replace('"size":1', '"size":3')),
      2,
      /io event: field 'size' must be one of 1, 2, 4, got the number 3/,
    ],
    [
      'a bad enum',
      lines(HEADER, IO.replace('"out"', '"sideways"')),
      2,
      /field 'dir' must be one of "in", "out"/,
    ],
    [
      'a value over 32 bits',
      lines(HEADER, HALT.replace('4096', '4294967296')),
      2,
      /field 'eip' must be an integer 0..0xFFFFFFFF/,
    ],
    ['a missing field', lines(HEADER, IO.replace(',"value":65', '')), 2, /io event: missing field 'value'/],
    [
      'an unknown field',
      lines(HEADER, HALT.replace('}', ',"colour":"red"}')),
      2,
      /halt event: unknown field 'colour'/,
    ],
    [
      'null for an optional field',
      lines(HEADER, HALT.replace('"kind":"halt","eip":4096', '"kind":"entry","eip":1,"injectedVector":null')),
      2,
      /'injectedVector' must be an integer 0..255, got null/,
    ],
    ['an array where an object belongs', lines(HEADER, '[1,2,3]'), 2, /must be a JSON object, got an array/],
    [
      'seq going backwards',
      lines(HEADER, HALT, IO),
      3,
      /seq 1 is not greater than the previous event's seq 2/,
    ],
    ['a repeated seq', lines(HEADER, IO, IO), 3, /seq 1 is not greater/],
  ];
  for (const [what, text, line, message] of cases) {
    it(what, () => {
      const e = errorOf(parseTrace(text));
      expect(e.line).toBe(line);
      expect(e.message).toMatch(message);
    });
  }
});

describe('parseTrace on damaged real traces', () => {
  const text = encodeNdjson(syntheticEvents({ count: 300, seed: 9 }), { kernel: 'k' });
  const lineCount = text.split('\n').length - 1;
  let x = 12345;
  const rand = (n: number): number => {
    x = (x * 1103515245 + 12345) >>> 0;
    return x % n;
  };

  it('never throws: every cut is accepted at a line end or reported as truncated', () => {
    for (let i = 0; i < 300; i++) {
      const cut = rand(text.length);
      const r = parseTrace(text.slice(0, cut));
      if (cut === 0) expect(errorOf(r).message).toMatch(/empty file/);
      else if (!r.ok)
        expect(r.error.message).toMatch(/truncated line|empty file|JSON|must be|missing|unknown|not a vizor/);
    }
  });

  it('never throws on flipped bytes, and reports a line inside the file', () => {
    for (let i = 0; i < 300; i++) {
      const at = rand(text.length);
      const damaged = text.slice(0, at) + String.fromCharCode(rand(128)) + text.slice(at + 1);
      const r = parseTrace(damaged);
      if (!r.ok) {
        expect(r.error.line).toBeGreaterThanOrEqual(1);
        expect(r.error.line).toBeLessThanOrEqual(lineCount + 1);
      }
    }
    expect(parseTrace('\u0000\u00ff\ufffd binary junk').ok).toBe(false);
  });
});

describe('summary', () => {
  const ev = (seq: number, tick: number, vm: number, kind: string, fields: object = {}): TraceEvent =>
    ({ seq, tick, vm, vcpu: 0, kind, ...fields }) as TraceEvent;
  const exit = (reason: string, cycles: number) => ({
    reason,
    qualification: 0,
    instructionLength: 1,
    eip: 0,
    cycles,
  });
  const pf = (linear: number, outcome: string) => ({ outcome, linear, errorCode: 2, eip: 0 });
  const stream = [
    ev(0, 0, -1, 'sched', { from: -1, to: 0, reason: 'start' }),
    ev(1, 10, 0, 'entry', { eip: 0x1000 }),
    ev(2, 110, 0, 'pagefault', pf(0x5000, 'hidden')),
    ev(3, 110, 0, 'exit', exit('EXCEPTION_NMI', 40)),
    ev(4, 150, 0, 'entry', { eip: 0x1000 }),
    ev(5, 250, 0, 'exit', exit('HLT', 20)),
    ev(6, 270, -1, 'sched', { from: 0, to: 1, reason: 'halt' }),
    ev(7, 280, 1, 'entry', { eip: 0x2000 }),
    ev(8, 380, 1, 'pagefault', pf(0x5000, 'injected')),
    ev(9, 380, 1, 'pagefault', pf(0x7000, 'injected')),
    ev(10, 400, 1, 'exit', exit('HLT', 30)),
  ];

  it('counts by kind, reason and VM; splits time between VMs and the hypervisor', () => {
    const s = summarize(stream);
    expect(s.byKind.get('exit')).toBe(3);
    expect(s.byExitReason.get('HLT')).toEqual({ count: 2, cycles: 50 });
    expect(s.byVm.get(-1)).toBe(2);
    // VM 0 runs 10..110 and 150..250, VM 1 runs 280..400; the rest (0..10, 110..150, 250..280) is the hypervisor's.
    expect(Object.fromEntries(s.timeByVm)).toEqual({ '-1': 80, '0': 200, '1': 120 });
    expect(s.faults.get(0x5000)).toMatchObject({ count: 2, outcomes: { hidden: 1, injected: 1 } });
  });

  it('counts a VM first slice without an entry as guest time, and handler events as hypervisor time', () => {
    const s = summarize([
      ev(0, 0, -1, 'sched', { from: -1, to: 0, reason: 'start' }),
      ev(1, 5, 0, 'halt', { eip: 1 }), // no entry after the switch: the guest ran 0..5
      ev(2, 105, 0, 'exit', exit('CR_ACCESS', 50)), // guest: 5..105
      ev(3, 130, 0, 'shadow', { op: 'flush', linear: 0, guestPte: 0, shadowPte: 0 }), // handler: 105..130
      ev(4, 155, 0, 'entry', { eip: 2 }), // handler: 130..155
      ev(5, 255, 0, 'halt', { eip: 3 }), // guest: 155..255
    ]);
    expect(Object.fromEntries(s.timeByVm)).toEqual({ '-1': 50, '0': 205 });
  });

  it('gives a whole quantum to the VM switched to in a trace of sched and exit events only', () => {
    const s = summarize([
      ev(0, 0, -1, 'sched', { from: -1, to: 0, reason: 'start' }),
      ev(1, 1000, 0, 'exit', exit('PREEMPTION_TIMER', 100)), // VM 0's quantum: 0..1000
      ev(2, 1100, -1, 'sched', { from: 0, to: 1, reason: 'quantum' }), // the handler and switch: 1000..1100
      ev(3, 1100, -1, 'frame', { op: 'alloc', frame: 9, owner: 'guest', ownerVm: 1 }), // says nothing about who runs
      ev(4, 3100, 1, 'exit', exit('PREEMPTION_TIMER', 100)), // VM 1's quantum: 1100..3100
      ev(5, 3200, -1, 'sched', { from: 1, to: 0, reason: 'quantum' }),
      ev(6, 3210, 0, 'entry', { eip: 1 }), // an entry: 3200..3210 was the hypervisor's
      ev(7, 3300, 0, 'halt', { eip: 2 }),
    ]);
    expect(Object.fromEntries(s.timeByVm)).toEqual({ '-1': 210, '0': 1090, '1': 2000 });
  });

  describe('vizor trace summary (CLI)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vizor-trace-'));
    let out = '';
    let err = '';
    const capture = (): void => {
      out = err = '';
      vi.spyOn(process.stdout, 'write').mockImplementation((s) => ((out += String(s)), true));
      vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
    };
    afterEach(() => vi.restoreAllMocks());

    it('prints the table for a good file', async () => {
      const file = join(dir, 'good.ndjson');
      writeFileSync(file, encodeNdjson(stream, { kernel: 'two-vms' }));
      capture();
      expect(await command(['summary', file])).toBe(0);
      expect(out).toMatch(/11 events, ticks 0\.\.400/);
      expect(out).toMatch(/params: kernel=two-vms/);
      expect(out).toMatch(/^ {2}HLT +2 +66\.7% +50 +25$/m);
      expect(out).toMatch(/^ {2}hypervisor +80 +20\.0%$/m);
      expect(out).toMatch(/^ {2}0x00005000 +2 +1 +1$/m);
      expect(err).toBe('');
    });

    it('reads a binary .vzt trace to the same table, and names the byte where a cut one breaks', async () => {
      const ndjson = join(dir, 'same.ndjson'), vzt = join(dir, 'same.vzt');
      writeFileSync(ndjson, encodeNdjson(stream, { kernel: 'two-vms' }));
      const bytes = encodeTraceFile(stream, { kernel: 'two-vms' });
      writeFileSync(vzt, bytes);
      capture();
      expect(await command(['summary', ndjson])).toBe(0);
      const fromNdjson = out.replace(ndjson, 'FILE');
      capture();
      expect(await command(['summary', vzt])).toBe(0);
      expect(out.replace(vzt, 'FILE')).toBe(fromNdjson);
      expect(err).toBe('');
      const cut = join(dir, 'cut.vzt');
      writeFileSync(cut, bytes.subarray(0, bytes.length - 7));
      capture();
      expect(await command(['summary', cut])).toBe(4);
      expect(err).toMatch(new RegExp(`^vizor trace: ${cut.replace(/[.]/g, '[.]')}: byte \\d+: truncated`));
      expect(out).toBe('');
    });

    it('exits 4 with file:line for a corrupt file, 4 for a missing one, 2 for bad usage', async () => {
      const file = join(dir, 'bad.ndjson');
      writeFileSync(file, lines(HEADER, IO, IO.replace('"seq":1', '"seq":3').replace('"io"', '"teleport"')));
      capture();
      expect(await command(['summary', file])).toBe(4);
      expect(err).toBe(`vizor trace: ${file}:3: unknown event kind "teleport"\n`);
      expect(out).toBe('');
      capture();
      expect(await command(['summary', join(dir, 'nope.ndjson')])).toBe(4);
      expect(err).toMatch(/cannot read .*nope\.ndjson: ENOENT/);
      capture();
      expect(await command(['summary'])).toBe(2);
      expect(await command(['frobnicate', 'x'])).toBe(2);
      expect(err).toMatch(/unknown subcommand 'frobnicate'/);
      capture();
      expect(await command(['perfetto', file])).toBe(2);
      expect(err).toMatch(/perfetto needs -o out.json/);
    });

    it('converts a recorded trace to Perfetto JSON, with a kinds filter', async () => {
      const file = join(dir, 'conv.ndjson');
      const jsonFile = join(dir, 'conv.json');
      writeFileSync(file, encodeNdjson(stream, { kernel: 'two-vms' }));
      capture();
      expect(await command(['perfetto', file, '-o', jsonFile, '--trace-kinds', 'exit,entry,sched'])).toBe(0);
      const json = JSON.parse(readFileSync(jsonFile, 'utf8')) as {
        otherData: { params: object };
        traceEvents: { cat?: string }[];
      };
      expect(json.otherData.params).toEqual({ kernel: 'two-vms', source: file });
      expect(json.traceEvents.filter((e) => e.cat === 'exit').length).toBe(3);
      expect(json.traceEvents.filter((e) => e.cat === 'sched').length).toBe(2);
      expect(json.traceEvents.some((e) => e.cat === 'pagefault')).toBe(false);
      expect(err).toMatch(/8 events -> /);
    });
  });
});
