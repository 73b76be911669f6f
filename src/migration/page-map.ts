// Which guest pages a migration moved, round by round, in a form small enough for a trace's
// header (`vizor migrate --trace` writes it as params.pages; the migration view reads it to draw
// every page of the VM). Page lists are written as ranges: "0-9,12,256-400".
import type { MigrationEvent } from './events.ts';

export interface PageMap {
  /** Guest pages of the VM (its memory / 4096): the grid's size. */
  guestPages: number;
  /** Pages backed and not all zeros when the migration started (what round 0 / post-copy moves). */
  live: number[];
  /** Pre-copy rounds: the pages each sent, and those dirtied while it ran. */
  rounds: { send: number[]; dirty: number[] }[];
  /** The stop-and-copy's pages. */
  final: number[];
}

/** The same, with page lists as range text (JSON-friendly, compact). */
export interface PageMapText {
  guestPages: number;
  live: string;
  rounds: { send: string; dirty: string }[];
  final: string;
}

/** [0,1,2,3,7,9,10] → "0-3,7,9-10" (the list must be ascending). */
export function rangesOf(pages: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < pages.length; ) {
    let j = i;
    while (j + 1 < pages.length && pages[j + 1] === pages[j]! + 1) j++;
    out.push(i === j ? String(pages[i]) : `${pages[i]}-${pages[j]}`);
    i = j + 1;
  }
  return out.join(',');
}

/** "0-3,7" → [0,1,2,3,7]; null for anything else, or pages outside 0..limit-1. */
export function pagesOf(text: string, limit: number): number[] | null {
  if (text === '') return [];
  const out: number[] = [];
  for (const part of text.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return null;
    const a = Number(m[1]), b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b >= limit || b - a > limit) return null;
    for (let g = a; g <= b; g++) out.push(g);
  }
  return out;
}

/** The page map of a migration, from the engine's events. */
export function pageMapOf(events: readonly MigrationEvent[], guestPages: number): PageMap {
  const map: PageMap = { guestPages, live: [], rounds: [], final: [] };
  for (const e of events) {
    const gfns = e.gfns ?? [];
    if (e.phase === 'start') map.live = gfns;
    else if (e.phase === 'round-start') map.rounds.push({ send: gfns, dirty: [] });
    else if (e.phase === 'dirty' && map.rounds.length > 0) map.rounds[map.rounds.length - 1]!.dirty = gfns;
    else if (e.phase === 'downtime-start') map.final = gfns;
  }
  return map;
}

export function encodePageMap(m: PageMap): PageMapText {
  return { guestPages: m.guestPages, live: rangesOf(m.live), rounds: m.rounds.map((r) => ({ send: rangesOf(r.send), dirty: rangesOf(r.dirty) })), final: rangesOf(m.final) };
}

/** Reads params.pages of a trace; null when absent or malformed (the view then shows counts only). */
export function decodePageMap(v: unknown): PageMap | null {
  if (typeof v !== 'object' || v === null) return null;
  const o = v as Record<string, unknown>;
  const n = o.guestPages;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > 1 << 20) return null;
  const list = (t: unknown) => (typeof t === 'string' ? pagesOf(t, n) : null);
  const live = list(o.live), final = list(o.final);
  if (live === null || final === null || !Array.isArray(o.rounds)) return null;
  const rounds: PageMap['rounds'] = [];
  for (const r of o.rounds as unknown[]) {
    const ro = (typeof r === 'object' && r !== null ? r : {}) as Record<string, unknown>;
    const send = list(ro.send), dirty = list(ro.dirty);
    if (send === null || dirty === null) return null;
    rounds.push({ send, dirty });
  }
  return { guestPages: n, live, rounds, final };
}
