// Scan code set 1 → BIOS key words (scan << 8 | ASCII) with the shift state in BDA 0x417.
const NORMAL: Record<number, string> = {};
const SHIFT: Record<number, string> = {};
function row(first: number, normal: string, shifted: string): void {
  for (let i = 0; i < normal.length; i++) { NORMAL[first + i] = normal[i]; SHIFT[first + i] = shifted[i]; }
}
row(0x02, '1234567890-=', '!@#$%^&*()_+');
row(0x10, 'qwertyuiop[]', 'QWERTYUIOP{}');
row(0x1e, "asdfghjkl;'`", 'ASDFGHJKL:"~');
row(0x2b, '\\zxcvbnm,./', '|ZXCVBNM<>?');
row(0x39, ' ', ' ');
const CONTROL: Record<number, number> = { 0x01: 0x1b, 0x0e: 0x08, 0x0f: 0x09, 0x1c: 0x0d };

const RSHIFT = 0x01, LSHIFT = 0x02, CTRL = 0x04, ALT = 0x08, CAPS = 0x40;
const E0_PENDING = 0x02;

export interface KbdResult { key?: number; shiftFlags: number; extendedFlags: number }

/** One byte from the keyboard: updates the shift flags and yields a key word for make codes. */
export function kbdTranslate(scan: number, shiftFlags: number, extendedFlags: number): KbdResult {
  if (scan === 0xe0) return { shiftFlags, extendedFlags: extendedFlags | E0_PENDING };
  const extended = (extendedFlags & E0_PENDING) !== 0;
  extendedFlags &= ~E0_PENDING;
  const release = (scan & 0x80) !== 0;
  const code = scan & 0x7f;
  const modifier = code === 0x2a ? LSHIFT : code === 0x36 ? RSHIFT : code === 0x1d ? CTRL : code === 0x38 ? ALT : 0;
  if (modifier !== 0) {
    shiftFlags = release ? shiftFlags & ~modifier : shiftFlags | modifier;
    return { shiftFlags, extendedFlags };
  }
  if (release) return { shiftFlags, extendedFlags };
  if (code === 0x3a) return { shiftFlags: shiftFlags ^ CAPS, extendedFlags };
  if (extended) return { key: (code << 8) | 0xe0, shiftFlags, extendedFlags };
  const shifted = (shiftFlags & (LSHIFT | RSHIFT)) !== 0;
  let ch = (shifted ? SHIFT[code] : NORMAL[code]) ?? '';
  if (ch && shiftFlags & CAPS && /[a-z]/i.test(ch)) ch = shifted ? ch.toLowerCase() : ch.toUpperCase();
  let ascii = ch ? ch.charCodeAt(0) : (CONTROL[code] ?? 0);
  if (shiftFlags & CTRL && /[a-z]/i.test(ch)) ascii = ch.toLowerCase().charCodeAt(0) & 0x1f;
  if (shiftFlags & ALT) ascii = 0;
  return { key: (code << 8) | ascii, shiftFlags, extendedFlags };
}
