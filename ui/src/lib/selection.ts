// Multi-selection in a list, the way desktop file managers and players do it: click selects one,
// Ctrl/Cmd-click toggles, Shift-click selects a range from the anchor.

export interface Selection {
  /** Selected row indexes. */
  rows: Set<number>;
  /** Where a Shift-click range starts. */
  anchor: number | null;
}

export function emptySelection(): Selection {
  return { rows: new Set(), anchor: null };
}

/** The selection after a click on `index` with these modifier keys. */
export function click(sel: Selection, index: number, toggle: boolean, range: boolean): Selection {
  if (range && sel.anchor !== null) {
    const rows = toggle ? new Set(sel.rows) : new Set<number>();
    const [a, b] = sel.anchor < index ? [sel.anchor, index] : [index, sel.anchor];
    for (let i = a; i <= b; i++) rows.add(i);
    return { rows, anchor: sel.anchor };
  }
  if (toggle) {
    const rows = new Set(sel.rows);
    if (rows.has(index)) rows.delete(index);
    else rows.add(index);
    return { rows, anchor: index };
  }
  return { rows: new Set([index]), anchor: index };
}

/** The selection after an arrow key moves it by `delta` (Shift extends it). */
export function step(sel: Selection, delta: number, count: number, extend: boolean): Selection {
  if (count === 0) return emptySelection();
  const focus = sel.rows.size ? (delta > 0 ? Math.max(...sel.rows) : Math.min(...sel.rows)) : -1;
  const next = Math.max(0, Math.min(count - 1, focus + delta));
  if (extend && sel.anchor !== null) return click(sel, next, false, true);
  return { rows: new Set([next]), anchor: next };
}

/** Selected indexes in ascending order. */
export function sorted(sel: Selection): number[] {
  return [...sel.rows].sort((a, b) => a - b);
}
