// Where the user was in a view: Back returns to the same place in the list, not to its top. A
// view fills in after its data arrives (10,000 albums take a moment), so the place is put back
// once the view is tall enough to hold it.

/** The element that scrolls the main view: a view that scrolls whole, or a list that fills it. */
export function viewScroller(main: ParentNode): HTMLElement | null {
  return main.querySelector<HTMLElement>('.view.scroll, .table.fill .viewport');
}

/** Schedules `step` for the next frame; returns what cancels it. */
export type Schedule = (step: () => void) => () => void;

const nextFrame: Schedule = (step) => {
  const frame = requestAnimationFrame(step);
  return () => cancelAnimationFrame(frame);
};

/**
 * Scrolls what `find` returns to `top` as soon as it can scroll that far, trying each frame for
 * up to `frames` frames (then going as far as it can). Returns what cancels it: a user who
 * navigates again before it is done.
 */
export function restoreScroll(
  find: () => HTMLElement | null,
  top: number,
  frames = 180,
  schedule: Schedule = nextFrame,
): () => void {
  let cancel = () => {};
  let left = frames;
  const attempt = () => {
    const el = find();
    if (el && (el.scrollHeight - el.clientHeight >= top || --left <= 0)) {
      el.scrollTop = top;
      return;
    }
    if (!el && --left <= 0) return;
    cancel = schedule(attempt);
  };
  cancel = schedule(attempt);
  return () => cancel();
}
