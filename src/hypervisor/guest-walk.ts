// The guest's own two-level page walk, done by the hypervisor (shadow paging) or by the "hardware"
// (the guest dimension of a nested walk). Same rules as the bare MMU (mmu.ts): 4 KiB and 4 MiB
// (PSE) pages, U/S and R/W folded over both levels, CR0.WP for supervisor writes, and A/D bits set
// in the guest's tables when the access is allowed. Guest-physical references go through `toHost`
// (the p2m for shadow paging, the nested table for nested paging).

export interface WalkResult {
  ok: boolean;
  /** #PF error code when !ok (P, W/R, U/S). */
  errorCode: number;
  /** Guest-physical address the linear address maps to (when ok). */
  gpa: number;
  /** Effective permissions over both levels. */
  user: boolean;
  writable: boolean;
  /** The leaf's D bit after this access. */
  dirty: boolean;
  /** 4 MiB page. */
  large: boolean;
  /** Guest-physical page numbers of the directory and (4 KiB pages) the table used. */
  pdGfn: number;
  ptGfn: number;
  /** The guest's leaf entry (PTE, or PDE for a 4 MiB page) after the A/D update. */
  leaf: number;
}

export interface GuestTables {
  cr0: number;
  cr3: number;
  cr4: number;
}

/** Host access to a guest-physical address: returns a host physical address (or -1: unbacked). */
export type ToHost = (gpa: number, lin: number) => number;
export type Read32 = (hostAddr: number) => number;
export type Write32 = (hostAddr: number, v: number) => void;
export type OnRef = (lin: number, step: number, level: number, address: number, value: number) => void;

const result: WalkResult = { ok: false, errorCode: 0, gpa: 0, user: false, writable: false, dirty: false, large: false, pdGfn: 0, ptGfn: -1, leaf: 0 };

function fail(present: boolean, write: boolean, user: boolean): WalkResult {
  result.ok = false;
  result.errorCode = (present ? 1 : 0) | (write ? 2 : 0) | (user ? 4 : 0);
  return result;
}

/**
 * Walks the guest's tables for `lin`. The returned object is reused by the next call: copy what
 * you keep. `onRef` (optional) sees each guest-table reference with its guest-physical address.
 */
export function walkGuest(
  t: GuestTables, lin: number, write: boolean, user: boolean,
  toHost: ToHost, read32: Read32, write32: Write32, onRef: OnRef | null,
): WalkResult {
  const wp = (t.cr0 & 0x10000) !== 0;
  const pse = (t.cr4 & 0x10) !== 0;
  const pdeGpa = ((t.cr3 & ~0xfff) + ((lin >>> 22) << 2)) >>> 0;
  const pdeHost = toHost(pdeGpa, lin);
  const pde = pdeHost < 0 ? 0 : read32(pdeHost) | 0;
  if (onRef !== null) onRef(lin, 1, 2, pdeGpa, pde);
  result.pdGfn = pdeGpa >>> 12;
  result.ptGfn = -1;
  if ((pde & 1) === 0) return fail(false, write, user);
  if ((pde & 0x80) !== 0 && pse) {
    if (!allowed(pde, write, user, wp)) return fail(true, write, user);
    const upd = pde | 0x20 | (write ? 0x40 : 0);
    if (upd !== pde && pdeHost >= 0) write32(pdeHost, upd);
    result.ok = true;
    result.gpa = ((pde & 0xffc00000) + (lin & 0x3ff000) + (lin & 0xfff)) >>> 0;
    result.user = (pde & 4) !== 0;
    result.writable = (pde & 2) !== 0;
    result.dirty = (upd & 0x40) !== 0;
    result.large = true;
    result.leaf = upd;
    return result;
  }
  if ((pde & 0x20) === 0 && pdeHost >= 0) write32(pdeHost, pde | 0x20);
  const pteGpa = ((pde & ~0xfff) + (((lin >>> 12) & 0x3ff) << 2)) >>> 0;
  const pteHost = toHost(pteGpa, lin);
  const pte = pteHost < 0 ? 0 : read32(pteHost) | 0;
  if (onRef !== null) onRef(lin, 2, 1, pteGpa, pte);
  result.ptGfn = pteGpa >>> 12;
  if ((pte & 1) === 0) return fail(false, write, user);
  const perm = pde & pte;
  if (!allowed(perm, write, user, wp)) return fail(true, write, user);
  const upd = pte | 0x20 | (write ? 0x40 : 0);
  if (upd !== pte && pteHost >= 0) write32(pteHost, upd);
  result.ok = true;
  result.gpa = ((pte & ~0xfff) | (lin & 0xfff)) >>> 0;
  result.user = (perm & 4) !== 0;
  result.writable = (perm & 2) !== 0;
  result.dirty = (upd & 0x40) !== 0;
  result.large = false;
  result.leaf = upd;
  return result;
}

function allowed(perm: number, write: boolean, user: boolean, wp: boolean): boolean {
  if (user) return (perm & 4) !== 0 && (!write || (perm & 2) !== 0);
  return !write || (perm & 2) !== 0 || !wp;
}

/** The identity "walk" of a guest with paging off (physical mode): everything allowed. */
export function physicalMode(lin: number, a20Mask: number): WalkResult {
  result.ok = true;
  result.gpa = (lin & a20Mask) >>> 0;
  result.user = true;
  result.writable = true;
  result.dirty = true;
  result.large = false;
  result.pdGfn = -1;
  result.ptGfn = -1;
  result.leaf = 0;
  return result;
}
