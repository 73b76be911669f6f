// The format of one TLB entry: (physical page << 12) | T_* bits. Its own file because the TLB
// (tlb.ts), the page walk (page-walk.ts), the linear-access fast paths (mmu.ts) and readers
// outside the machine (hypervisor paging, the worker's TLB view, the dirty log) all share it.
// One AND with a per-CPL mask and one compare decide whether an access may take the RAM fast path.

export const T_VALID = 1;
/** The page is not accessible from CPL 3. */
export const T_NOUSER = 2;
/** Read-only for CPL 3 writes. */
export const T_ROUSER = 4;
/** Read-only for supervisor writes (read-only page with CR0.WP set). */
export const T_ROSUP = 8;
/** Not plain RAM (MMIO or nothing): take the Memory dispatch path. */
export const T_MMIO = 16;
/** The PTE's D bit is already set: writes need not walk. */
export const T_DIRTY = 32;
/** The physical page holds decoded code: writes must invalidate it. */
export const T_CODE = 64;
/**
 * The physical page is clean (not written since the memory's last snapshot): writes leave the fast
 * path once, mark the page dirty and drop the bit (Memory's incremental snapshots rest on this).
 */
export const T_CLEAN = 128;
