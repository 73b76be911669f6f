// Plain-data CPU state as the loaders and the BIOS read and write it (the shape of the CPU's
// getState()/setState(), declared here so boot code does not depend on the CPU's internals).
export interface SegmentState { selector: number; base: number; limit: number; access: number }
export interface CpuStateLike {
  eax: number; ecx: number; edx: number; ebx: number; esp: number; ebp: number; esi: number; edi: number;
  eip: number; eflags: number;
  es: SegmentState; cs: SegmentState; ss: SegmentState; ds: SegmentState; fs: SegmentState; gs: SegmentState;
  ldtr: SegmentState; tr: SegmentState;
  gdtr: { base: number; limit: number }; idtr: { base: number; limit: number };
  cr0: number; cr2: number; cr3: number; cr4: number;
}

export const realSeg = (selector: number, code = false): SegmentState => ({
  selector: selector & 0xffff, base: (selector & 0xffff) << 4, limit: 0xffff, access: code ? 0x9b : 0x93,
});

export const flatCode = (): SegmentState => ({ selector: 0x08, base: 0, limit: 0xffffffff, access: 0xc9b });
export const flatData = (): SegmentState => ({ selector: 0x10, base: 0, limit: 0xffffffff, access: 0xc93 });

// 8- and 16-bit register views.
export const lo8 = (r: number) => r & 0xff;
export const hi8 = (r: number) => (r >>> 8) & 0xff;
export const lo16 = (r: number) => r & 0xffff;
export const setLo8 = (r: number, v: number) => ((r & ~0xff) | (v & 0xff)) >>> 0;
export const setHi8 = (r: number, v: number) => ((r & ~0xff00) | ((v & 0xff) << 8)) >>> 0;
export const setLo16 = (r: number, v: number) => ((r & ~0xffff) | (v & 0xffff)) >>> 0;
