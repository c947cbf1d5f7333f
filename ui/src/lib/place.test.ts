import { describe, expect, it } from 'vitest';
import { restoreScroll, type Schedule } from './place';

/** A scroller whose content grows as a view's data arrives. */
function scroller(scrollHeight: number) {
  return { scrollHeight, clientHeight: 600, scrollTop: 0 } as unknown as HTMLElement & { scrollHeight: number };
}

/** Frames run by hand. */
function frames() {
  let queued: (() => void)[] = [];
  const schedule: Schedule = (step) => {
    queued.push(step);
    return () => (queued = queued.filter((s) => s !== step));
  };
  const run = () => {
    const now = queued;
    queued = [];
    for (const step of now) step();
  };
  return { schedule, run, pending: () => queued.length };
}

describe('restoreScroll', () => {
  it('waits until the view is tall enough, then scrolls to the place', () => {
    const f = frames();
    const el = scroller(600);
    restoreScroll(() => el, 5000, 180, f.schedule);
    f.run();
    f.run();
    expect(el.scrollTop).toBe(0);
    el.scrollHeight = 100_000;
    f.run();
    expect(el.scrollTop).toBe(5000);
    expect(f.pending()).toBe(0);
  });

  it('waits for the view to appear', () => {
    const f = frames();
    let el: HTMLElement | null = null;
    restoreScroll(() => el, 300, 180, f.schedule);
    f.run();
    el = scroller(10_000);
    f.run();
    expect(el.scrollTop).toBe(300);
  });

  it('goes as far as it can when the view never grows that tall', () => {
    const f = frames();
    const el = scroller(2000);
    restoreScroll(() => el, 5000, 3, f.schedule);
    f.run();
    f.run();
    expect(el.scrollTop).toBe(0);
    f.run();
    expect(el.scrollTop).toBe(5000);
    expect(f.pending()).toBe(0);
  });

  it('stops when cancelled', () => {
    const f = frames();
    const el = scroller(600);
    const cancel = restoreScroll(() => el, 5000, 180, f.schedule);
    f.run();
    cancel();
    el.scrollHeight = 100_000;
    f.run();
    expect(el.scrollTop).toBe(0);
    expect(f.pending()).toBe(0);
  });
});
