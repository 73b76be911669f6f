// The QEMU `-d cpu` log parser, on a real log captured from QEMU 7.2 (fixtures/kernels/
// qemu-log-sample.txt: the first three records of the exceptions kernel, then a DIV by zero and
// the first records of its #DE handler), plus truncated and malformed input; and the lockstep
// comparison built on it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { KERNELS_DIR } from '../helpers/nasm.ts';
import { compareLockstep } from '../helpers/lockstep.ts';
import { formatRecord, parseQemuLog, parseRecord, splitRecords, type CpuRecord } from '../helpers/qemu-log.ts';

const SAMPLE = readFileSync(join(KERNELS_DIR, 'qemu-log-sample.txt'), 'latin1');

describe('QEMU cpu log parser', () => {
  it('splits the sample into its seven records', () => {
    expect(splitRecords(SAMPLE)).toHaveLength(7);
    expect(parseQemuLog(SAMPLE)).toHaveLength(7);
  });

  it('reads the Multiboot entry state QEMU leaves (QEMU-NOTES.md)', () => {
    const [r] = parseQemuLog(SAMPLE);
    expect(r.eax).toBe(0x2badb002);
    expect(r.ebx).toBe(0x9500);
    expect(r.ecx).toBe(r.eip); // ECX = the entry address
    expect(r.edx).toBe(0x00010511);
    expect(r.edi).toBe(0x1000);
    expect(r.esp).toBe(0x6f08);
    expect(r.eflags).toBe(0x6);
    expect([r.cs, r.ds, r.es, r.ss, r.fs, r.gs]).toEqual([0x08, 0x10, 0x10, 0x10, 0x10, 0x10]);
    expect([r.cr0, r.cr2, r.cr3, r.cr4]).toEqual([0x11, 0, 0, 0]);
    expect([r.cpl, r.hlt, r.csBase]).toEqual([0, 0, 0]);
  });

  it('sees the #DE: the handler runs with EFLAGS, CS and EIP pushed', () => {
    const recs = parseQemuLog(SAMPLE);
    const div = recs[4];
    const handler = recs[5];
    expect(div.ecx).toBe(0); // DIV ECX with ECX = 0
    expect(handler.esp).toBe(div.esp - 12);
    expect(handler.eip).not.toBe(div.eip);
    expect(handler.cs).toBe(0x08);
    expect(recs[6].esp).toBe(handler.esp - 4); // the stub pushes a dummy error code
  });

  it('honours the record limit', () => {
    expect(parseQemuLog(SAMPLE, 2).map((r) => r.eip)).toEqual(parseQemuLog(SAMPLE).slice(0, 2).map((r) => r.eip));
  });

  it('drops a last record cut short (QEMU killed while writing)', () => {
    const cut = SAMPLE.slice(0, SAMPLE.lastIndexOf('CS =') + 10);
    expect(parseQemuLog(cut)).toHaveLength(6);
  });

  it('rejects a malformed record in the middle with its text', () => {
    const parts = splitRecords(SAMPLE);
    parts[1] = parts[1].replace(/EIP=[0-9a-f]{8}/, 'EIP=zzzz');
    expect(() => parseQemuLog(parts.join(''))).toThrow(/lacks EIP/);
  });

  it('formats a record on one line for error messages', () => {
    const line = formatRecord(parseRecord(splitRecords(SAMPLE)[0]));
    expect(line).toMatch(/^EIP=[0-9a-f]{8} EAX=2badb002 .*CR0=00000011/);
    expect(line).not.toContain('\n');
  });
});

// The lockstep comparison (test/helpers/lockstep.ts) on records built from the sample.
describe('lockstep comparison', () => {
  const base = parseQemuLog(SAMPLE)[0];
  // code at 0x100000: mul ebx (F7 E3); nop; rep stosb (F3 AA); nop; nop ...
  const code = { bytes: new Uint8Array([0xf7, 0xe3, 0x90, 0xf3, 0xaa, 0x90, 0x90, 0x90, 0x90, 0x90]), base: 0x100000 };
  const at = (eip: number, extra: Partial<CpuRecord> = {}): CpuRecord => ({ ...base, eip, ...extra });

  it('accepts identical traces and counts what it compared', () => {
    const t = [at(0x100000), at(0x100002), at(0x100003)];
    expect(compareLockstep(t, t.map((r) => ({ ...r })), code)).toMatchObject({ ok: true, compared: 3 });
  });

  it('collapses REP iterations logged one per record by QEMU', () => {
    const q = [at(0x100003, { ecx: 3 }), at(0x100003, { ecx: 2 }), at(0x100003, { ecx: 1 }), at(0x100005, { ecx: 0 })];
    const v = [at(0x100003, { ecx: 3 }), at(0x100005, { ecx: 0 })];
    expect(compareLockstep(q, v, code)).toMatchObject({ ok: true, compared: 2 });
  });

  it('masks flags MUL leaves undefined, but not CF/OF', () => {
    const q = [at(0x100000), at(0x100002, { eflags: 0x46 }), at(0x100003, { eflags: 0x46 })];
    const v = [at(0x100000), at(0x100002, { eflags: 0x06 }), at(0x100003, { eflags: 0x06 })];
    expect(compareLockstep(q, v, code).ok).toBe(true); // ZF after MUL is undefined
    const v2 = [at(0x100000), at(0x100002, { eflags: 0x47 })];
    const r = compareLockstep(q.slice(0, 2), v2, code);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/register eflags: QEMU 0x00000046, vizor 0x00000047/);
  });

  it('skips the record QEMU logs for an instruction interrupted before it ran', () => {
    const q = [at(0x100002), at(0x100005), at(0x100006), at(0x100002)];
    const v = [at(0x100005), at(0x100006), at(0x100002)];
    expect(compareLockstep(q, v, code)).toMatchObject({ ok: true, skippedQemu: 1 });
  });

  it('explains the first divergence: index, EIP, register, both values, the instructions', () => {
    const q = [at(0x100000), at(0x100002, { eax: 1 })];
    const v = [at(0x100000), at(0x100002, { eax: 2 })];
    const r = compareLockstep(q, v, code, { maxSkips: 0 });
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/record #1.*EIP 0x00100002/);
    expect(r.message).toMatch(/register eax: QEMU 0x00000001, vizor 0x00000002/);
    expect(r.message).toMatch(/just executed: EIP 0x00100000 .*mul ebx/);
  });

  it('reports a trace that stops early', () => {
    const q = [at(0x100000), at(0x100002), at(0x100003)];
    const r = compareLockstep(q, q.slice(0, 2), code);
    expect(r.ok).toBe(false);
    expect(r.message).toMatch(/vizor's trace ends but QEMU's goes on/);
  });
});

describe('lockstep comparison: flags saved while undefined', () => {
  const base = parseQemuLog(SAMPLE)[0];
  // 0x100000: shr eax, 7 (C1 E8 07); pushfd (9C); test al, 1 (A8 01); popfd (9D); nop
  const code = { bytes: new Uint8Array([0xc1, 0xe8, 0x07, 0x9c, 0xa8, 0x01, 0x9d, 0x90]), base: 0x100000 };
  const at = (eip: number, eflags: number): CpuRecord => ({ ...base, eip, eflags });

  it('accepts an undefined OF that POPF brings back after TEST defined it', () => {
    const q = [at(0x100000, 0x2), at(0x100003, 0x002), at(0x100004, 0x002), at(0x100006, 0x046), at(0x100007, 0x002)];
    const v = [at(0x100000, 0x2), at(0x100003, 0x802), at(0x100004, 0x802), at(0x100006, 0x046), at(0x100007, 0x802)];
    expect(compareLockstep(q, v, code).ok).toBe(true);
  });

  it('still rejects a flag that was never undefined coming back different', () => {
    const q = [at(0x100000, 0x2), at(0x100003, 0x002), at(0x100004, 0x002), at(0x100006, 0x046), at(0x100007, 0x002)];
    const v = [at(0x100000, 0x2), at(0x100003, 0x002), at(0x100004, 0x002), at(0x100006, 0x046), at(0x100007, 0x042)];
    expect(compareLockstep(q, v, code).ok).toBe(false);
  });
});
