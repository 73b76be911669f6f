// The listing, in the layout of `nasm -l`: line number, section offset, hex bytes (18 columns,
// continued on further lines with a trailing '-'), a <N> mark for include/macro depth, the source.
// Relocatable values appear as NASM shows them: [offset in section], (branch target).

import type { ListRecord } from './output.ts';

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');

/** The byte field as tokens: one per plain byte, one per relocatable field; with the bytes each covers. */
function tokens(r: ListRecord): { text: string; bytes: number }[] {
  const bytes = r.bytes!;
  const marks = [...r.marks].sort((a, b) => a.at - b.at);
  const out: { text: string; bytes: number }[] = [];
  let m = 0;
  for (let i = 0; i < bytes.length; ) {
    while (m < marks.length && marks[m]!.at < i) m++;
    const mark = marks[m];
    if (mark && mark.at === i) {
      out.push({ text: mark.text, bytes: mark.size });
      i += mark.size;
      m++;
    } else out.push({ text: hex(bytes[i++]!, 2), bytes: 1 });
  }
  return out;
}

/** Splits tokens into listing rows of at most 18 characters. */
function rows(toks: { text: string; bytes: number }[]): { text: string; bytes: number }[] {
  const out: { text: string; bytes: number }[] = [];
  let cur = { text: '', bytes: 0 };
  for (const t of toks) {
    if (cur.text.length > 0 && cur.text.length + t.text.length > 18) {
      out.push(cur);
      cur = { text: '', bytes: 0 };
    }
    cur.text += t.text;
    cur.bytes += t.bytes;
  }
  if (cur.text.length > 0) out.push(cur);
  return out;
}

export function formatListing(records: ListRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    const src = r.line.src;
    const num = String(src.listLine).padStart(6);
    const marker = src.depth > 0 ? ` <${src.depth}> ` : '     ';
    const cont = src.depth > 0 ? ` <${src.depth}>` : '';
    const tail = marker + src.listText;
    let lines: { text: string; bytes: number }[] = [];
    if (r.bytes && r.bytes.length > 0) {
      lines = rows(tokens(r));
      if (r.rep > 1) {
        const rep = `<rep ${hex(r.rep, 1)}h>`;
        const last = lines[lines.length - 1]!;
        if (lines.length === 1 && last.text.length + rep.length <= 18) last.text += rep;
        else lines.push({ text: rep, bytes: -1 });
      }
    } else if (r.reserve > 0) lines = [{ text: r.reserve <= 8 ? '??'.repeat(r.reserve) : `<res ${hex(r.reserve, 1)}h>`, bytes: 0 }];
    if (lines.length === 0) out.push(`${num}${' '.repeat(29)}${tail}`);
    let off = r.offset;
    lines.forEach((l, i) => {
      const more = i + 1 < lines.length ? '-' : '';
      const row = `${num} ${hex(l.bytes < 0 ? r.offset : off, 8)} ${(l.text + more).padEnd(19)}`;
      out.push(i === 0 ? row + tail : row + cont);
      off += l.bytes;
    });
    for (const m of r.messages) out.push(`${num}          ******************       ${m.severity}: ${m.message}`);
  }
  return out.join('\n') + '\n';
}
