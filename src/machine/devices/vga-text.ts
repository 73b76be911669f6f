// The VGA text mode as far as a toy kernel uses it: the 80x25 character/attribute buffer at
// 0xB8000 (plain RAM, read back by vgaText) and the CRTC index/data ports for the cursor.
import type { IoBus } from '../bus.ts';
import { byteDevice } from '../io.ts';

export const VGA_TEXT_BASE = 0xb8000;
export const VGA_COLS = 80;
export const VGA_ROWS = 25;

export interface VgaState { crtcIndex: number; crtc: number[]; retrace: number; miscOutput: number }

/** CP437 for the printable range we care about; control characters shown as spaces. */
function glyph(code: number): string {
  if (code >= 0x20 && code < 0x7f) return String.fromCharCode(code);
  if (code === 0) return ' ';
  return CP437_HIGH[code - 0x80] ?? ' ';
}
const CP437_HIGH =
  'ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■ ';

export class VgaText {
  s: VgaState = { crtcIndex: 0, crtc: new Array(25).fill(0), retrace: 0, miscOutput: 0x67 };

  constructor(private readonly readBytes: (addr: number, length: number) => Uint8Array) {}

  register(io: IoBus): void {
    io.register(0x3d4, 2, byteDevice((p) => (p === 0x3d4 ? this.s.crtcIndex : this.s.crtc[this.s.crtcIndex] ?? 0xff),
      (p, v) => {
        if (p === 0x3d4) this.s.crtcIndex = v & 0x1f;
        else if (this.s.crtcIndex < this.s.crtc.length) this.s.crtc[this.s.crtcIndex] = v;
      }), 'vga-crtc');
    io.register(0x3da, 1, byteDevice(() => this.readStatus(), () => {}), 'vga-status');
    io.register(0x3cc, 1, byteDevice(() => this.s.miscOutput, () => {}), 'vga-misc');
  }

  reset(): void {
    this.s = { crtcIndex: 0, crtc: new Array(25).fill(0), retrace: 0, miscOutput: 0x67 };
    this.s.crtc[0x0a] = 0x0d; // cursor scan lines 13-14, as the BIOS sets mode 3
    this.s.crtc[0x0b] = 0x0e;
  }

  /** Input status 1: the retrace bits toggle on every read so polling loops progress. */
  private readStatus(): number {
    this.s.retrace ^= 0x09;
    return this.s.retrace;
  }

  /** Cursor position as a cell offset (row * 80 + column). */
  get cursor(): number {
    return ((this.s.crtc[0x0e] << 8) | this.s.crtc[0x0f]) & 0xffff;
  }

  set cursor(offset: number) {
    this.s.crtc[0x0e] = (offset >> 8) & 0xff;
    this.s.crtc[0x0f] = offset & 0xff;
  }

  /** The 25 lines of the screen, trailing spaces removed. */
  text(): string[] {
    const bytes = this.readBytes(VGA_TEXT_BASE, VGA_COLS * VGA_ROWS * 2);
    const lines: string[] = [];
    for (let r = 0; r < VGA_ROWS; r++) {
      let line = '';
      for (let c = 0; c < VGA_COLS; c++) line += glyph(bytes[(r * VGA_COLS + c) * 2]);
      lines.push(line.replace(/\s+$/, ''));
    }
    return lines;
  }

  /** Character and attribute of every cell (row-major), for the UI. */
  cells(): Uint8Array {
    return this.readBytes(VGA_TEXT_BASE, VGA_COLS * VGA_ROWS * 2);
  }

  saveState(): VgaState {
    return { ...this.s, crtc: [...this.s.crtc] };
  }

  loadState(st: VgaState): void {
    this.s = { ...st, crtc: [...st.crtc] };
  }
}
