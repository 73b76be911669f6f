// The listing, in the layout of `nasm -l`: line number, section offset, hex bytes (18 columns,
// continued on further lines with a trailing '-'), then the source text.

import type { ListRecord } from './assembler.ts';

const hex = (n: number, w: number) => n.toString(16).toUpperCase().padStart(w, '0');

export function formatListing(records: ListRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    const src = r.line.src;
    const num = String(src.listLine).padStart(6);
    const marker = src.depth > 0 ? ` <${src.depth}> ` : '     ';
    const tail = marker + src.listText;
    let field = '';
    if (r.bytes && r.bytes.length > 0) {
      field = Array.from(r.bytes, (b) => hex(b, 2)).join('');
      if (r.rep > 1) field += `<rep ${hex(r.rep, 1)}h>`;
    } else if (r.reserve > 0) field = r.reserve <= 8 ? '??'.repeat(r.reserve) : `<res ${hex(r.reserve, 1)}h>`;
    if (!field) out.push(`${num}${' '.repeat(29)}${tail}`);
    else if (field.length <= 18 || field.includes('<')) out.push(`${num} ${hex(r.offset, 8)} ${field.padEnd(18)} ${tail}`);
    else {
      let first = true;
      let off = r.offset;
      for (let i = 0; i < field.length; i += 18) {
        const chunk = field.slice(i, i + 18);
        const more = i + 18 < field.length;
        const line = `${num} ${hex(off, 8)} ${chunk.padEnd(18)}${more ? '-' : ' '}`;
        out.push(first ? line + tail : src.depth > 0 ? line + ` <${src.depth}>` : line);
        first = false;
        off += 9;
      }
    }
    for (const m of r.messages) out.push(`${num}          ******************       ${m.severity}: ${m.message}`);
  }
  return out.join('\n') + '\n';
}
