// The debugger's keyboard shortcuts, as in VS Code: F5 continue/pause, Shift+F5 reset (VS Code's
// "stop"; here it reloads and resets), F10 over, F11 into, Shift+F11 out, Ctrl+F10 run to cursor.
// VS Code has no default keys for reverse debugging: Shift+F10 steps back, Shift+F6 reverse-continues.
// Ctrl+Shift+M enlarges the bottom panel (or restores it): for a projector.
export type KeyAction = 'continue' | 'pause' | 'reset' | 'over' | 'into' | 'out' | 'back' | 'reverse' | 'cursor' | 'maximize';

export function keyAction(e: Pick<KeyboardEvent, 'key' | 'shiftKey' | 'ctrlKey' | 'metaKey' | 'altKey'>): KeyAction | null {
  if (e.altKey || e.metaKey) return null;
  const ctrl = e.ctrlKey;
  const shift = e.shiftKey;
  switch (e.key) {
    case 'F5': return ctrl ? null : shift ? 'reset' : 'continue';
    case 'F6': return ctrl ? null : shift ? 'reverse' : 'pause';
    case 'F10': return ctrl ? (shift ? null : 'cursor') : shift ? 'back' : 'over';
    case 'F11': return ctrl ? null : shift ? 'out' : 'into';
    case 'm': case 'M': return ctrl && shift ? 'maximize' : null;
  }
  return null;
}
