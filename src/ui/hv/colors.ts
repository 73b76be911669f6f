// Colours: one per VM (Okabe-Ito, safe for colour-blind viewers and distinct on a projector), and
// one per kind of mark. The hypervisor is a neutral grey so that VMs stand out.
export const VM_COLORS = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#56B4E9', '#D55E00', '#F0E442', '#999933'];
export const HV_COLOR = '#7a8290';
export const FREE_COLOR_LIGHT = '#e9ecf1';
export const FREE_COLOR_DARK = '#2a2e37';

export function vmColor(vm: number): string {
  return vm < 0 ? HV_COLOR : VM_COLORS[vm % VM_COLORS.length]!;
}

/**
 * A VM's colour for text: on the dark theme mixed 40% towards white, so that a name in a dark
 * blue (#0072B2, about 3:1 on the dark panel) still reads from the back of a room (about 6:1).
 */
export function vmTextColor(vm: number, dark: boolean): string {
  const c = vmColor(vm);
  if (!dark) return c;
  const mix = (i: number) => Math.round(parseInt(c.slice(i, i + 2), 16) * 0.6 + 255 * 0.4).toString(16).padStart(2, '0');
  return `#${mix(1)}${mix(3)}${mix(5)}`;
}

/** Mark colours by category (see CAT in timeline-store.ts). */
export const CAT_COLORS = ['#3d4452', '#8e44ad', '#2e9d4f', '#d62728', '#9467bd', '#1f77b4', '#555', '#999'];
export const CAT_COLORS_DARK = ['#c9ced8', '#c58be0', '#4cc870', '#ff6b6b', '#b99cf0', '#5aa9ff', '#bbb', '#777'];
