// INT 10h, text mode 3 only: teletype output (mirrored to the serial console), cursor position and
// shape, scrolling, character/attribute reads and writes, write string, get mode.
import { BDA, type BiosMemory } from './bios-context.ts';
import { hi8, lo8, lo16, setHi8, setLo8, setLo16, type CpuStateLike } from './realmode.ts';
import type { VgaText } from '../devices/vga-text.ts';
import { VGA_TEXT_BASE } from '../devices/vga-text.ts';

const COLS = 80, ROWS = 25, BLANK_ATTR = 0x07;

export class BiosVideo {
  constructor(private readonly mem: BiosMemory, private readonly vga: VgaText, private readonly mirror: (byte: number) => void) {}

  /** Mode 3 as a BIOS leaves it: cleared screen, cursor at 0,0. */
  init(): void {
    this.mem.write8(BDA + 0x49, 3);
    this.mem.write16(BDA + 0x4a, COLS);
    this.mem.write16(BDA + 0x4c, 0x1000);
    this.mem.write16(BDA + 0x4e, 0);
    this.mem.write16(BDA + 0x60, 0x0607);
    this.mem.write8(BDA + 0x62, 0);
    this.mem.write16(BDA + 0x63, 0x3d4);
    this.mem.write8(BDA + 0x84, ROWS - 1);
    this.mem.write16(BDA + 0x85, 16);
    this.clearWindow(0, 0, ROWS - 1, COLS - 1, BLANK_ATTR);
    this.setCursor(0, 0);
  }

  private cell(row: number, col: number): number {
    return VGA_TEXT_BASE + (row * COLS + col) * 2;
  }

  cursor(): { row: number; col: number } {
    return { row: this.mem.read8(BDA + 0x51), col: this.mem.read8(BDA + 0x50) };
  }

  setCursor(row: number, col: number): void {
    this.mem.write8(BDA + 0x50, col);
    this.mem.write8(BDA + 0x51, row);
    this.vga.cursor = row * COLS + col;
  }

  private clearWindow(top: number, left: number, bottom: number, right: number, attr: number): void {
    for (let r = top; r <= bottom; r++) for (let c = left; c <= right; c++) this.mem.write16(this.cell(r, c), (attr << 8) | 0x20);
  }

  /** Scroll the window up (n > 0) or down (n < 0); n = 0 clears it. */
  scroll(n: number, attr: number, top: number, left: number, bottom: number, right: number): void {
    bottom = Math.min(bottom, ROWS - 1);
    right = Math.min(right, COLS - 1);
    const height = bottom - top + 1;
    if (n === 0 || Math.abs(n) >= height) return this.clearWindow(top, left, bottom, right, attr);
    const width = (right - left + 1) * 2;
    if (n > 0) {
      for (let r = top; r <= bottom - n; r++) this.mem.writeBytes(this.cell(r, left), this.mem.readBytes(this.cell(r + n, left), width));
      this.clearWindow(bottom - n + 1, left, bottom, right, attr);
    } else {
      const k = -n;
      for (let r = bottom; r >= top + k; r--) this.mem.writeBytes(this.cell(r, left), this.mem.readBytes(this.cell(r - k, left), width));
      this.clearWindow(top, left, top + k - 1, right, attr);
    }
  }

  /** Teletype: control characters act, the rest print with the cell's attribute. */
  teletype(ch: number, attr?: number): void {
    this.mirror(ch);
    let { row, col } = this.cursor();
    switch (ch) {
      case 0x07: return; // bell
      case 0x08: if (col > 0) col--; break;
      case 0x0a: row++; break;
      case 0x0d: col = 0; break;
      default: {
        const a = this.cell(row, col);
        this.mem.write8(a, ch);
        if (attr !== undefined) this.mem.write8(a + 1, attr);
        col++;
      }
    }
    if (col >= COLS) { col = 0; row++; }
    if (row >= ROWS) {
      const keep = this.mem.read8(this.cell(ROWS - 1, 0) + 1) || BLANK_ATTR;
      this.scroll(1, keep, 0, 0, ROWS - 1, COLS - 1);
      row = ROWS - 1;
    }
    this.setCursor(row, col);
  }

  handle(st: CpuStateLike): void {
    const ah = hi8(st.eax), al = lo8(st.eax);
    switch (ah) {
      case 0x00: this.clearWindow(0, 0, ROWS - 1, COLS - 1, BLANK_ATTR); this.setCursor(0, 0); this.mem.write8(BDA + 0x49, al & 0x7f); break;
      case 0x01: this.mem.write16(BDA + 0x60, lo16(st.ecx)); break;
      case 0x02: this.setCursor(Math.min(hi8(st.edx), ROWS - 1), Math.min(lo8(st.edx), COLS - 1)); break;
      case 0x03: {
        const { row, col } = this.cursor();
        st.edx = setLo16(st.edx, (row << 8) | col);
        st.ecx = setLo16(st.ecx, this.mem.read16(BDA + 0x60));
        break;
      }
      case 0x05: break; // one display page only
      case 0x06: case 0x07: {
        const n = al === 0 ? 0 : ah === 0x06 ? al : -al;
        this.scroll(n, hi8(st.ebx), hi8(st.ecx), lo8(st.ecx), hi8(st.edx), lo8(st.edx));
        break;
      }
      case 0x08: {
        const { row, col } = this.cursor();
        st.eax = setLo16(st.eax, this.mem.read16(this.cell(row, col)));
        break;
      }
      case 0x09: case 0x0a: {
        const { row, col } = this.cursor();
        const count = lo16(st.ecx);
        for (let k = 0, pos = row * COLS + col; k < count && pos < ROWS * COLS; k++, pos++) {
          this.mem.write8(VGA_TEXT_BASE + pos * 2, al);
          if (ah === 0x09) this.mem.write8(VGA_TEXT_BASE + pos * 2 + 1, lo8(st.ebx));
        }
        break;
      }
      case 0x0e: this.teletype(al); break;
      case 0x0f: st.eax = setLo16(st.eax, (COLS << 8) | this.mem.read8(BDA + 0x49)); st.ebx = setHi8(st.ebx, 0); break;
      case 0x12: if (lo8(st.ebx) === 0x10) { st.ebx = setLo16(st.ebx, 0x0003); st.ecx = setLo16(st.ecx, 0x0009); } break;
      case 0x13: this.writeString(st); break;
      case 0x1a: if (al === 0) { st.eax = setLo8(st.eax, 0x1a); st.ebx = setLo16(st.ebx, 0x0008); } break; // VGA colour
      default: break;
    }
  }

  /** AH=13h: ES:BP string of CX characters at DH,DL; AL bit 0 moves the cursor, bit 1 = char/attr pairs. */
  private writeString(st: CpuStateLike): void {
    const mode = lo8(st.eax), count = lo16(st.ecx);
    const saved = this.cursor();
    this.setCursor(hi8(st.edx), lo8(st.edx));
    let p = st.es.base + lo16(st.ebp);
    for (let k = 0; k < count; k++) {
      const ch = this.mem.read8(p++);
      let attr = lo8(st.ebx);
      if (mode & 2) attr = this.mem.read8(p++);
      this.teletype(ch, ch === 0x0a || ch === 0x0d || ch === 0x08 || ch === 0x07 ? undefined : attr);
    }
    if ((mode & 1) === 0) this.setCursor(saved.row, saved.col);
  }
}
