// Sections of a flat binary, laid out as NASM's bin format does: .text first at `org`, then the
// other progbits sections in declaration order (follows= moves a section after another, start=
// fixes its address, align= defaults to 4), then nobits sections (.bss) after the last byte.

export interface Section {
  name: string;
  index: number;
  nobits: boolean;
  align: number;
  /** Explicit attributes. */
  start?: number;
  vstart?: number;
  follows?: string;
  vfollows?: string;
  /** Size in the current pass. */
  size: number;
  /** Physical (load) address from the last layout. */
  loadAddr: number;
  /** Address labels in this section are relative to (vstart or load address). */
  base: number;
  fileOffset: number;
  alignRaised: number;
}

export function newSection(name: string, index: number, attrs: Record<string, string>): Section {
  const lower = name.toLowerCase();
  const nobits = 'nobits' in attrs || (lower === '.bss' && !('progbits' in attrs));
  const s: Section = { name, index, nobits, align: 0, size: 0, loadAddr: 0, base: 0, fileOffset: 0, alignRaised: 0 };
  applyAttrs(s, attrs);
  return s;
}

export function applyAttrs(s: Section, attrs: Record<string, string>): string | undefined {
  for (const [k, v] of Object.entries(attrs)) {
    switch (k) {
      case 'align': {
        const n = Number(v);
        if (!(n > 0 && (n & (n - 1)) === 0)) return `section alignment ${v} is not a power of two`;
        s.align = n;
        break;
      }
      case 'start': s.start = Number(v); break;
      case 'vstart': s.vstart = Number(v); break;
      case 'follows': s.follows = v; break;
      case 'vfollows': s.vfollows = v; break;
      case 'nobits': s.nobits = true; break;
      case 'progbits': s.nobits = false; break;
      case 'code': case 'text': case 'data': case 'rdata': case 'bss': case 'exec': case 'noexec': case 'write': case 'nowrite': case 'alloc': case 'noalloc':
        if (k === 'bss') s.nobits = true;
        break;
      default:
        return `unknown section attribute '${k}' (vizor knows align=, start=, vstart=, follows=, vfollows=, progbits, nobits)`;
    }
  }
  return undefined;
}

const alignUp = (v: number, a: number) => (a > 1 ? Math.ceil(v / a) * a : v);

/** Assigns addresses to all sections; returns the output image extent. */
export function layout(sections: Section[], org: number): { imageStart: number; imageEnd: number } {
  const text = sections[0]!;
  const progbits = sections.filter((s) => !s.nobits);
  const order: Section[] = [];
  const pending = progbits.filter((s) => s !== text && !s.follows);
  if (!text.nobits) order.push(text);
  order.push(...pending);
  for (const s of progbits) {
    if (s === text || !s.follows) continue;
    const at = order.findIndex((x) => x.name === s.follows);
    if (at < 0) order.push(s);
    else order.splice(at + 1, 0, s);
  }
  let end = org;
  let imageEnd = org;
  for (const s of order) {
    const align = Math.max(s.align || 4, s.alignRaised);
    if (s === text) s.loadAddr = s.start ?? org;
    else s.loadAddr = s.start ?? alignUp(end, align);
    end = s.loadAddr + s.size;
    if (s.size > 0 || s === text) imageEnd = Math.max(imageEnd, end);
  }
  for (const s of sections) {
    if (!s.nobits) continue;
    const align = Math.max(s.align || 4, s.alignRaised);
    s.loadAddr = s.start ?? alignUp(end, align);
    end = s.loadAddr + s.size;
  }
  for (const s of sections) {
    s.base = s.vstart ?? s.loadAddr;
    if (s.vfollows) {
      const t = sections.find((x) => x.name === s.vfollows);
      if (t) s.base = alignUp(t.base + t.size, Math.max(s.align || 4, s.alignRaised));
    }
    s.fileOffset = s.nobits ? -1 : s.loadAddr - org;
  }
  return { imageStart: org, imageEnd };
}
