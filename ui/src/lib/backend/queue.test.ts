// The web player's queue keeps the desktop engine's rules (the same cases as queue.rs's tests).
import { describe, expect, it } from 'vitest';
import { Queue } from './queue';

/** A seeded generator (mulberry32), so shuffles are the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const tracks = (q: Queue) => q.rows().map((r) => r.track);
const itemOf = (q: Queue, track: number) => q.rows().find((r) => r.track === track)!.item;

/** Follows the queue from the current item through `count` natural successors. */
function playOn(q: Queue, count: number): number[] {
  const played: number[] = [];
  for (let i = 0; i < count && q.currentTrack() !== null; i++) {
    played.push(q.currentTrack()!);
    if (!q.advance(false)) break;
  }
  return played;
}

describe('Queue', () => {
  it('keeps item ids and the current item through edits', () => {
    const q = new Queue(seeded(1));
    q.load([1, 2, 3], 1);
    const two = itemOf(q, 2);
    q.insertNext([10]);
    q.append([20]);
    expect(tracks(q)).toEqual([1, 2, 10, 3, 20]);
    expect(q.currentIndex).toBe(1);
    expect(itemOf(q, 2)).toBe(two);

    // Moving the current item carries the current index with it.
    expect(q.move(two, 4)).toBe(true);
    expect(tracks(q)).toEqual([1, 10, 3, 20, 2]);
    expect(q.currentTrack()).toBe(2);
    expect(q.move(999, 0)).toBe(false);

    // Removing the current item makes the one after it current; at the end, none.
    q.move(two, 1);
    expect(q.remove([two])).toBe(true);
    expect(q.currentTrack()).toBe(10);
    const twenty = itemOf(q, 20);
    q.setCurrent(twenty);
    expect(q.remove([twenty, 999])).toBe(true);
    expect(q.currentIndex).toBeNull();

    q.restart();
    q.clearUpcoming();
    expect(tracks(q)).toEqual([1]);
  });

  it('removes items before the current one without losing it', () => {
    const q = new Queue(seeded(1));
    q.load([1, 2, 3, 4], 2);
    expect(q.remove([itemOf(q, 1), itemOf(q, 2)])).toBe(false);
    expect(q.currentTrack()).toBe(3);
    expect(q.currentIndex).toBe(0);
  });

  it('plays every item once per shuffled cycle and reshuffles without a repeat at the seam', () => {
    const all = [1, 2, 3, 4, 5, 6, 7];
    const q = new Queue(seeded(42));
    q.setShuffle(true);
    q.setRepeat('all');
    q.load(all, 3);
    expect(q.currentTrack()).toBe(4);
    const played = playOn(q, 3 * all.length);
    const cycles = [0, 1, 2].map((c) => played.slice(c * all.length, (c + 1) * all.length));
    for (const cycle of cycles) expect([...cycle].sort()).toEqual(all);
    expect(cycles[0]![0]).toBe(4);
    expect(cycles[0]!.join() !== cycles[1]!.join() || cycles[1]!.join() !== cycles[2]!.join()).toBe(true);
    expect(cycles[0]!.at(-1)).not.toBe(cycles[1]![0]);
    expect(cycles[1]!.at(-1)).not.toBe(cycles[2]![0]);
  });

  it('returns to the original order after the current item when shuffle goes off', () => {
    const q = new Queue(seeded(7));
    q.load([1, 2, 3, 4, 5], 0);
    q.setShuffle(true);
    // What has played stays where it is; the rest is shuffled.
    expect(tracks(q)[0]).toBe(1);
    q.setCurrent(itemOf(q, 3));
    q.setShuffle(false);
    expect(tracks(q)).toEqual([1, 2, 3, 4, 5]);
    expect(playOn(q, 10)).toEqual([3, 4, 5]);
  });

  it('repeats one unless skipped, and wraps under repeat-all', () => {
    const q = new Queue(seeded(3));
    q.load([1, 2], 1);
    q.setRepeat('one');
    expect(q.advance(false)).toBe(true);
    expect(q.currentTrack()).toBe(2);
    expect(q.advance(true)).toBe(true);
    expect(q.currentTrack()).toBe(1);
    q.setRepeat('off');
    q.advance(true);
    expect(q.advance(false)).toBe(false);
    expect(q.currentIndex).toBeNull();
    q.setCurrent(itemOf(q, 2));
    q.setRepeat('all');
    expect(playOn(q, 3)).toEqual([2, 1, 2]);
  });

  it('inserts next at the front when nothing is current, and goes back only after the start', () => {
    const q = new Queue(seeded(5));
    q.load([1, 2], 0);
    expect(q.goBack()).toBe(false);
    q.finish();
    q.insertNext([9]);
    expect(tracks(q)).toEqual([9, 1, 2]);
    q.load([1, 2, 3], 99);
    expect(q.currentTrack()).toBe(3);
    expect(q.goBack()).toBe(true);
    expect(q.currentTrack()).toBe(2);
  });

  it('restores a saved queue as it was, shuffle or not', () => {
    const q = new Queue(seeded(9));
    q.setShuffle(true);
    q.restore([5, 3, 8], 1);
    expect(tracks(q)).toEqual([5, 3, 8]);
    expect(q.currentTrack()).toBe(3);
    q.restore([5], 4);
    expect(q.currentIndex).toBeNull();
  });
});
