// The arithmetic of a virtualized list: which rows to render for a scroll position, and which of
// them still need fetching.

export interface Window {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Pixels above the first rendered row. */
  offset: number;
}

/** The rows to render when `scrollTop` px are scrolled away in a viewport `height` px tall. */
export function visibleWindow(
  scrollTop: number,
  height: number,
  rowHeight: number,
  count: number,
  overscan = 8,
): Window {
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0 };
  const first = Math.floor(Math.max(0, scrollTop) / rowHeight);
  const start = Math.max(0, Math.min(count - 1, first) - overscan);
  const end = Math.min(count, first + Math.ceil(Math.max(0, height) / rowHeight) + overscan + 1);
  return { start, end, offset: start * rowHeight };
}

/** How many columns of items `item` px wide with `gap` px between them fit in `width` px (at least one). */
export function gridColumns(width: number, item: number, gap: number): number {
  return Math.max(1, Math.floor((Math.max(0, width) + gap) / (item + gap)));
}

/**
 * The layout of the name lists (artists, genres): columns at least 280 px wide, 24 px apart, rows
 * 34 px tall (one line of text and the padding of `.list .item` in app.css).
 */
export const LIST = { itemWidth: 280, itemHeight: 34, columnGap: 24 } as const;

/**
 * The items of a grid to render, whole rows of `columns` items `rowHeight` px apart, when its top
 * is `scrollTop` px above the viewport's: [`visibleWindow`] over its rows, as item indices.
 */
export function gridWindow(
  scrollTop: number,
  height: number,
  rowHeight: number,
  columns: number,
  count: number,
  overscan = 2,
): Window {
  const perRow = Math.max(1, columns);
  const rows = visibleWindow(scrollTop, height, rowHeight, Math.ceil(count / perRow), overscan);
  return { start: rows.start * perRow, end: Math.min(count, rows.end * perRow), offset: rows.offset };
}

/**
 * A list of track ids a table shows: a plain array, or the `Float64Array` the Songs view gets
 * from the app (one typed array, nothing for the garbage collector to walk).
 */
export type IdList = ArrayLike<number>;

/** A list of ids as sent: raw native-endian float64s (the desktop app), or a JSON array (the locker). */
export function idList(sent: ArrayBuffer | number[]): Float64Array {
  return sent instanceof ArrayBuffer ? new Float64Array(sent) : Float64Array.from(sent);
}

/** `ids[start..end]` (clamped to the list) as a plain array. */
export function between(ids: IdList, start: number, end: number): number[] {
  const from = Math.max(0, start);
  const to = Math.min(ids.length, end);
  const out: number[] = [];
  for (let i = from; i < to; i++) out.push(ids[i]!);
  return out;
}

/**
 * Which of the `cached` ids a row cache can drop: those not in `ids[start..end]` (clamped) and
 * not `kept`. A list scrolled end to end would otherwise keep every row it ever showed.
 */
export function farFrom(
  ids: IdList,
  start: number,
  end: number,
  cached: Iterable<number>,
  kept: ReadonlySet<number> = new Set(),
): number[] {
  const near = new Set<number>();
  for (let i = Math.max(0, start); i < Math.min(ids.length, end); i++) near.add(ids[i]!);
  const out: number[] = [];
  for (const id of cached) if (!near.has(id) && !kept.has(id)) out.push(id);
  return out;
}

/** The ids in `ids[start..end]` not in `have`, in order, without repeats. */
export function missing(
  ids: IdList,
  start: number,
  end: number,
  have: { has(id: number): boolean },
): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  for (let i = Math.max(0, start); i < Math.min(ids.length, end); i++) {
    const id = ids[i]!;
    if (!have.has(id) && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  }
  return out;
}

/** The scrollTop that brings row `index` into view, or null when it is already visible. */
export function scrollToRow(
  index: number,
  scrollTop: number,
  height: number,
  rowHeight: number,
): number | null {
  const top = index * rowHeight;
  if (top < scrollTop) return top;
  if (top + rowHeight > scrollTop + height) return top + rowHeight - height;
  return null;
}
