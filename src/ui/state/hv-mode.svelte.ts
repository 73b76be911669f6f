// Hypervisor mode in the debugger: the Hypervisor tab's views follow the session's events, the
// debugger drives one VM's vCPU (the focus), and the whole program can also run under the
// hypervisor on its own (the VMs tab) with its events opened in the event log.
import { untrack } from 'svelte';
import { HvState } from '../hv/index.ts';
import { describeHv } from '../lessons/hv-config.ts';
import type { LessonState } from '../lessons/lesson-state.svelte.ts';
import type { HvRun } from './hv-run.svelte.ts';
import type { Project } from './project.svelte.ts';
import type { Session } from './session.svelte.ts';
import type { Settings } from './settings.svelte.ts';

export interface HvModeDeps {
  settings: Settings;
  session: Session;
  project: Project;
  lessons: LessonState;
  run: HvRun;
  /** Loads the program again (the debugger then starts with the focus set). */
  reload: () => Promise<void>;
  /** Shows a tab of the bottom panel. */
  showTab: (id: string) => void;
}

export class HvMode {
  /** The hypervisor views (Hypervisor tab), fed by the live session's events. */
  readonly views = new HvState();
  readonly on = $derived.by(() => this.deps.settings.machine.hv?.mode === 'hypervisor');
  /** The VM whose vCPU the debugger drives. */
  readonly focusVm = $derived.by(() => this.deps.settings.machine.hv?.focusVm ?? 0);
  private readonly viewParams = $derived.by(() => {
    const hv = this.deps.settings.machine.hv;
    return hv?.mode === 'hypervisor' ? { mode: `hv ${hv.cpu} ${hv.paging} ${hv.sched}` } : {};
  });

  /**
   * Construct while a component initialises: the effects that keep the views in step live as long
   * as it does (the views are imperative, so a $derived cannot feed them).
   */
  constructor(private readonly deps: HvModeDeps) {
    const views = this.views;
    const session = deps.session;
    $effect(() => { const p = this.viewParams; untrack(() => views.configure(p)); });
    // The session's event list is cut back when the debugger goes back, so the views always show
    // the run up to the debugger's position (the end of the list).
    $effect(() => { const list = session.events; untrack(() => { views.sync(list); views.setPositionTick(0, true); if (views.focusVm !== this.focusVm) views.focus(this.focusVm); }); });
    $effect(() => { const vm = this.focusVm; untrack(() => { if (views.focusVm !== vm) views.focus(vm); }); });
    views.onseek = (req) => { if (deps.settings.machine.hv?.mode === 'hypervisor') session.seekEvent(req.seq); else session.seek(req.tick); };
  }

  /**
   * Debugs another VM's vCPU. The machine stays where it is and each vCPU keeps its own history, so
   * switching back and forth keeps step back (with nothing loaded yet, it loads with that focus).
   */
  focusOn(vm: number): void {
    const { settings, session } = this.deps;
    const hv = settings.machine.hv;
    if (!hv || (hv.focusVm ?? 0) === vm) return;
    settings.machine = { ...settings.machine, hv: { ...hv, focusVm: vm } };
    settings.save();
    if (session.state === 'paused' || session.state === 'finished' || session.state === 'running') session.focus(vm);
    else void this.deps.reload();
  }

  /** A click in the Hypervisor tab: on a VM card the debugger follows (the card's own handler focuses the views). */
  followCardClick(e: MouseEvent): void {
    const card = (e.target as HTMLElement | null)?.closest<HTMLElement>('[data-testid="hv-vms"] [data-vm]');
    if (card && this.on) this.focusOn(Number(card.dataset.vm));
  }

  /** The whole program under the hypervisor (not the debugger): serial per VM, events into the log. */
  async runWholeProgram(): Promise<void> {
    const { settings, project, lessons, run, session } = this.deps;
    const machine = $state.snapshot(settings.machine);
    if (!machine.hv) return;
    const p = project.snapshot();
    this.deps.showTab('vms');
    const r = await run.run({ files: p.files, main: p.main, config: machine, maxInstructions: lessons.lesson?.meta.machine.maxInstructions ?? 50_000_000 }, describeHv(machine.hv));
    if (r.ok) session.openTrace(`the run under the hypervisor (${describeHv(machine.hv)})`, r.events);
  }
}
