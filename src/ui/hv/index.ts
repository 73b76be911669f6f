// The hypervisor views' public API, for the app.
//
// Wiring: src/ui/state/hv-mode.svelte.ts (HvMode) does it for the app; the gist is
//   const hv = new HvState();
//   $effect(() => hv.sync(session.events));                 // events as they arrive, step-backs included
//   hv.onseek = (req) => session.seekEvent(req.seq);        // timeline clicks move the debugger
//   <HvViews {hv} />   or the views one by one: VmCards, Timeline, ExitsByReason, ShadowTables,
//                      WalkView, SchedGantt, MemoryMap (each takes { hv }).
// A VM card click sets hv.focusVm; HvMode follows it to focus the debugger on that vCPU.
export { HvState } from './hv-state.svelte.ts';
export { default as HvViews } from './HvViews.svelte';
export { default as VmCards } from './VmCards.svelte';
export { default as Timeline } from './Timeline.svelte';
export { default as ExitsByReason } from './ExitsByReason.svelte';
export { default as ShadowTables } from './ShadowTables.svelte';
export { default as WalkView } from './WalkView.svelte';
export { default as SchedGantt } from './SchedGantt.svelte';
export { default as MemoryMap } from './MemoryMap.svelte';
export { TimelineStore } from './timeline-store.ts';
export { generateScenario } from './scenario.ts';
export { parseVizNdjson } from './viz-ndjson.ts';
export type { RunInfo, VmInfo, SeekRequest, VizEvent, FrameOwner } from './types.ts';
