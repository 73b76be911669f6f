// Files opened from disk: sources join the project, a binary image is loaded as is, a saved trace
// (NDJSON) opens in the event log for replay, a machine snapshot (.vzs) is restored.
import { parseTrace } from '../trace/reader.ts';
import { decodeTraceFile } from '../trace/file.ts';
import type { Project } from './state/project.svelte.ts';
import type { Session } from './state/session.svelte.ts';
import type { Settings } from './state/settings.svelte.ts';

export async function openFiles(
  list: FileList | File[],
  ctx: { project: Project; session: Session; settings: Settings; reload: () => Promise<void>; openSnapshot?: (name: string, bytes: Uint8Array) => Promise<void> },
): Promise<void> {
  let sources = 0;
  for (const file of Array.from(list)) {
    const name = file.name;
    if (/\.vzs$/i.test(name) && ctx.openSnapshot) {
      await ctx.openSnapshot(name, new Uint8Array(await file.arrayBuffer()));
    } else if (/\.vzt$/i.test(name)) {
      const parsed = decodeTraceFile(await file.arrayBuffer());
      if (!parsed.ok) {
        ctx.session.error = `${name}: byte ${parsed.error.offset}: ${parsed.error.message}`;
        continue;
      }
      ctx.session.openTrace(name, parsed.events);
    } else if (/\.(ndjson|jsonl)$/i.test(name)) {
      const parsed = parseTrace(await file.text());
      if (!parsed.ok) {
        ctx.session.error = `${name}:${parsed.error.line}: ${parsed.error.message}`;
        continue;
      }
      ctx.session.openTrace(name, parsed.events);
    } else if (/\.(bin|img)$/i.test(name)) {
      await ctx.session.loadImage(name, new Uint8Array(await file.arrayBuffer()), $state.snapshot(ctx.settings.machine));
    } else {
      ctx.project.addFile(name, await file.text());
      sources++;
    }
  }
  if (sources > 0) await ctx.reload();
}
