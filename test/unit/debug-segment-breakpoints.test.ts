// Source breakpoints in code assembled for one place and run at another: lesson 11's program is
// `section program follows=loader vstart=0x100`, loaded by its boot sector at 0800:0100, so its
// `int 0x10` line is at offset 0x19e in the map and runs at linear 0x819e. Lines of such a section
// resolve to offsets in CS (matched against EIP), so the breakpoint stops there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { assemble, type AsmMap } from '../../src/asm/index.ts';
import { Debugger } from '../../src/debug/debugger.ts';
import { relocatedSections, sourceInfo, type SourceInfo } from '../../src/debug/source.ts';
import { Machine } from '../../src/machine/machine.ts';

const LESSON = join(import.meta.dirname, '../../lessons/11-legacy-real-mode/kernel.asm');
const SOURCE = readFileSync(LESSON, 'utf8');
const INT10_LINE = SOURCE.split('\n').findIndex((l) => /^\s*int 0x10\b/.test(l)) + 1;
let image: Uint8Array;
let map: AsmMap;
let info: SourceInfo;

beforeAll(() => {
  const r = assemble(SOURCE, { fileName: LESSON });
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  image = r.bytes;
  map = r.map;
  info = sourceInfo(r.map);
});

function boot(): { m: Machine; d: Debugger } {
  const m = new Machine({ memoryBytes: 4 << 20 });
  m.load(image, { kind: 'boot-sector' });
  return { m, d: new Debugger(m, { lineMap: info.lineMap, symbols: info.symbols, snapshotInterval: 1000, snapshotOverhead: 0 }) };
}

describe('breakpoints on lines of a vstart section (lesson 11)', () => {
  it('finds the section the loader moves, and only that one', () => {
    expect([...relocatedSections(map)]).toEqual(['program']);
    const entry = info.lineMap.find((e) => e.line === INT10_LINE)!;
    expect(entry.segmentRelative).toBe(true);
    expect(entry.address).toBeLessThan(0x400); // an offset in the program's segment, not 0x8000+
    expect(info.lineMap.find((e) => e.line === 15)?.segmentRelative).toBeUndefined(); // the loader's `cli`
  });

  it('a breakpoint on its `int 0x10` line stops there, at 0800:offset', () => {
    expect(INT10_LINE).toBeGreaterThan(49);
    const { d } = boot();
    d.addBreakpoint({ location: { kind: 'line', file: LESSON, line: INT10_LINE } });
    const s = d.continue(5_000_000);
    expect(s.reason).toBe('breakpoint');
    const cpu = d.cpuState();
    expect(cpu.cs.selector).toBe(0x0800);
    const offset = info.lineMap.find((e) => e.line === INT10_LINE)!.address;
    expect(cpu.eip).toBe(offset);
    expect(s.eip).toBe(0x8000 + offset);
    // The instruction there is INT 10h (CD 10), and stepping into it leaves the program's segment.
    expect([...d.readMemory(s.eip, 2).bytes]).toEqual([0xcd, 0x10]);
    d.stepInto();
    expect(d.cpuState().cs.selector).not.toBe(0x0800);
    // The next INT 10h (the next character) stops again.
    const again = d.continue(5_000_000);
    expect(again.reason).toBe('breakpoint');
    expect(d.cpuState().eip).toBe(offset);
  });

  it('the loader\'s lines still match by linear address', () => {
    const { d } = boot();
    const line = SOURCE.split('\n').findIndex((l) => /^\s*int 0x13\b/.test(l)) + 1;
    d.addBreakpoint({ location: { kind: 'line', file: LESSON, line } });
    const s = d.continue(5_000_000);
    expect(s.reason).toBe('breakpoint');
    expect(d.cpuState().cs.base).toBe(0);
    expect(s.eip).toBeGreaterThanOrEqual(0x7c00);
  });
});
