// Parser for QEMU's `-d cpu` log (i386 target, QEMU 7.2): one record per executed translation
// block, which with -singlestep is one instruction; each record is the state before it runs.

/** The architectural state a lockstep comparison looks at (also what vizor's --trace-cpu gives). */
export interface CpuRecord {
  eip: number;
  eax: number;
  ecx: number;
  edx: number;
  ebx: number;
  esp: number;
  ebp: number;
  esi: number;
  edi: number;
  eflags: number;
  cs: number;
  ds: number;
  es: number;
  ss: number;
  fs: number;
  gs: number;
  cr0: number;
  cr2: number;
  cr3: number;
}

/** Extra fields only QEMU's log has. */
export interface QemuRecord extends CpuRecord {
  csBase: number;
  cpl: number;
  hlt: number;
  cr4: number;
}

export const RECORD_FIELDS = [
  'eip', 'eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'eflags',
  'cs', 'ds', 'es', 'ss', 'fs', 'gs', 'cr0', 'cr2', 'cr3',
] as const satisfies readonly (keyof CpuRecord)[];

const REG = /\b(EAX|EBX|ECX|EDX|ESI|EDI|EBP|ESP|EIP|EFL|CR0|CR2|CR3|CR4)=([0-9a-f]{8})\b/g;
const SEG = /^(ES|CS|SS|DS|FS|GS) =([0-9a-f]{4}) ([0-9a-f]{8})/gm;
const CPL = /\bCPL=(\d)\b.*\bHLT=(\d)\b/;

/** Splits log text into record texts: every record starts with a line beginning "EAX=". */
export function splitRecords(text: string): string[] {
  const starts: number[] = [];
  const re = /^EAX=/gm;
  for (let m = re.exec(text); m; m = re.exec(text)) starts.push(m.index);
  return starts.map((s, i) => text.slice(s, i + 1 < starts.length ? starts[i + 1] : text.length));
}

/** Parses one record; throws with the record text when a field is missing (a truncated record). */
export function parseRecord(text: string): QemuRecord {
  const r: Record<string, number> = {};
  for (const m of text.matchAll(REG)) r[m[1]] ??= parseInt(m[2], 16);
  for (const m of text.matchAll(SEG)) {
    r[m[1]] = parseInt(m[2], 16);
    if (m[1] === 'CS') r.CSBASE = parseInt(m[3], 16);
  }
  const cpl = CPL.exec(text);
  const need = ['EAX', 'EBX', 'ECX', 'EDX', 'ESI', 'EDI', 'EBP', 'ESP', 'EIP', 'EFL', 'CR0', 'CR2', 'CR3', 'CR4',
    'ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'CSBASE'];
  const missing = need.filter((k) => r[k] === undefined);
  if (missing.length > 0 || !cpl) {
    throw new Error(`QEMU log record lacks ${missing.join(', ') || 'CPL/HLT'}:\n${text.slice(0, 400)}`);
  }
  return {
    eip: r.EIP, eax: r.EAX, ecx: r.ECX, edx: r.EDX, ebx: r.EBX, esp: r.ESP, ebp: r.EBP, esi: r.ESI,
    edi: r.EDI, eflags: r.EFL, cs: r.CS, ds: r.DS, es: r.ES, ss: r.SS, fs: r.FS, gs: r.GS,
    cr0: r.CR0, cr2: r.CR2, cr3: r.CR3, cr4: r.CR4, csBase: r.CSBASE,
    cpl: Number(cpl[1]), hlt: Number(cpl[2]),
  };
}

/**
 * Parses a whole log, at most `limit` records. A last record cut short (QEMU killed while
 * writing) is dropped; a malformed record anywhere else is an error.
 */
export function parseQemuLog(text: string, limit = Infinity): QemuRecord[] {
  const parts = splitRecords(text);
  const out: QemuRecord[] = [];
  for (let i = 0; i < parts.length && out.length < limit; i++) {
    const last = i === parts.length - 1;
    if (last && !/\nCR0=.*\n/.test(parts[i])) break;
    out.push(parseRecord(parts[i]));
  }
  return out;
}

const hex = (v: number): string => (v >>> 0).toString(16).padStart(8, '0');

/** One-line rendering of a record for error messages. */
export function formatRecord(r: CpuRecord): string {
  return `EIP=${hex(r.eip)} EAX=${hex(r.eax)} EBX=${hex(r.ebx)} ECX=${hex(r.ecx)} EDX=${hex(r.edx)} ` +
    `ESI=${hex(r.esi)} EDI=${hex(r.edi)} EBP=${hex(r.ebp)} ESP=${hex(r.esp)} EFL=${hex(r.eflags)} ` +
    `CS=${r.cs.toString(16)} SS=${r.ss.toString(16)} DS=${r.ds.toString(16)} CR0=${hex(r.cr0)} CR2=${hex(r.cr2)} CR3=${hex(r.cr3)}`;
}
