// The hypervisor views' public API, for the app.
//
// Wiring (in App.svelte, by its owner):
//   const hv = new HvState();
//   $effect(() => hv.sync(session.events));                 // events as they arrive, step-backs included
//   $effect(() => hv.setPositionTick(session.snapshot?.instructions ?? 0, session.state === 'running'));
//   hv.onseek = (req) => session.seek(req.tick);            // timeline clicks move the debugger
//   <HvViews {hv} />   or the views one by one: VmCards, Timeline, ExitsByReason, ShadowTables,
//                      WalkView, SchedGantt, MemoryMap (each takes { hv }).
// A VM card click sets hv.focusVm; the app can follow it to focus the debugger on that vCPU.
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
