// The CPU state each loader hands over, applied to a state fresh from reset.
import { flatCode, flatData, realSeg, type CpuStateLike } from './realmode.ts';
import { GDT_ADDR } from './layout.ts';
import { MULTIBOOT_BOOTLOADER_MAGIC } from './multiboot.ts';

/**
 * 32-bit flat protected mode as QEMU's Multiboot loader leaves it (measured: ECX=entry,
 * EDX=0x00010511, EDI=0x1000, ESP=0x6F08, EFLAGS=0x6, CR0=0x11), but with a null LDTR.
 */
export function protectedModeEntry(st: CpuStateLike, entry: number, eax: number, ebx: number): void {
  st.eax = eax >>> 0;
  st.ebx = ebx >>> 0;
  st.ecx = entry >>> 0;
  st.edx = 0x00010511;
  st.esi = 0;
  st.edi = 0x1000;
  st.ebp = 0;
  st.esp = 0x6f08;
  st.eip = entry >>> 0;
  st.eflags = 0x6;
  st.cs = flatCode();
  st.ds = flatData();
  st.es = flatData();
  st.ss = flatData();
  st.fs = flatData();
  st.gs = flatData();
  st.ldtr = { selector: 0, base: 0, limit: 0, access: 0 };
  st.gdtr = { base: GDT_ADDR, limit: 0x17 };
  st.idtr = { base: 0, limit: 0x3ff };
  st.cr0 = 0x11;
}

export function multibootEntry(st: CpuStateLike, entry: number, infoAddr: number): void {
  protectedModeEntry(st, entry, MULTIBOOT_BOOTLOADER_MAGIC, infoAddr);
}

/**
 * Real mode at 0000:7C00 as SeaBIOS jumps to a boot sector: DL = boot drive, interrupts on, all data
 * segments 0 and the stack just below the boot sector's load address.
 */
export function bootSectorEntry(st: CpuStateLike, drive: number): void {
  st.eax = 0xaa55;
  st.ebx = 0;
  st.ecx = 0;
  st.edx = drive & 0xff;
  st.esi = 0;
  st.edi = 0;
  st.ebp = 0;
  st.esp = 0x6f04; // measured under SeaBIOS
  st.eip = 0x7c00;
  st.eflags = 0x202;
  st.cs = realSeg(0, true);
  st.ds = realSeg(0);
  st.es = realSeg(0);
  st.ss = realSeg(0);
  st.fs = realSeg(0);
  st.gs = realSeg(0);
  st.gdtr = { base: 0, limit: 0xffff };
  st.idtr = { base: 0, limit: 0x3ff };
  st.cr0 = 0x10;
}
