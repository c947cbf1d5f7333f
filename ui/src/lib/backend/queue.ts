// The web player's play queue: the desktop engine's queue (crates/player/src/queue.rs) in
// TypeScript, so the queue behaves the same in both builds: items with stable ids, an original
// order and a play order, shuffle and repeat.
//
// The queue keeps two orders of the same items: the original order, as the listener built it
// (loaded, inserted, appended, moved), and the play order, which is the original one when
// shuffle is off and a shuffled one when it is on. Rows, positions in commands and the current
// index are all in play order.
//
// Invariant: with shuffle off, the play order is the original order.
// Invariant: with shuffle on, every item plays once before any plays again: turning shuffle on
// shuffles only what is still to come, and repeat-all draws a fresh shuffle of every item for
// each new cycle.
//
// The queue is pure logic; randomness is passed in, so its tests are deterministic.

import type { QueueRow, RepeatMode } from '../types';

export class Queue {
  /** Each item's track, by item id. */
  private readonly items = new Map<number, number>();
  private order: number[] = [];
  private play: number[] = [];
  private current: number | null = null;
  private shuffled = false;
  private repeating: RepeatMode = 'off';
  private nextId = 1;

  /** A queue whose shuffles draw from `random` (a number in [0, 1), as `Math.random` gives). */
  constructor(private readonly random: () => number) {}

  /** The number of items. */
  get length(): number {
    return this.play.length;
  }

  /** Whether shuffle is on. */
  get shuffle(): boolean {
    return this.shuffled;
  }

  /** What plays after the end of a track. */
  get repeat(): RepeatMode {
    return this.repeating;
  }

  /** The index of the current item in play order: `null` for an empty or played-out queue. */
  get currentIndex(): number | null {
    return this.current;
  }

  /** The current item's id. */
  currentItem(): number | null {
    return this.current === null ? null : (this.play[this.current] ?? null);
  }

  /** The current item's track. */
  currentTrack(): number | null {
    const item = this.currentItem();
    return item === null ? null : (this.items.get(item) ?? null);
  }

  /** Every item in play order, as the UI shows the queue. */
  rows(): QueueRow[] {
    return this.play.map((item) => ({ item, track: this.items.get(item) ?? null }));
  }

  private add(tracks: number[]): number[] {
    return tracks.map((track) => {
      const item = this.nextId++;
      this.items.set(item, track);
      return item;
    });
  }

  /** Replaces the queue with `tracks`, `start` current (clamped to the last). With shuffle on,
   * `start` comes first and the rest are shuffled after it. */
  load(tracks: number[], start: number): void {
    this.items.clear();
    this.order = this.add(tracks);
    this.play = [...this.order];
    if (!this.play.length) {
      this.current = null;
      return;
    }
    const at = Math.min(Math.max(0, start), this.play.length - 1);
    if (this.shuffled) {
      const [first] = this.play.splice(at, 1);
      this.shuffleInPlace(this.play, 0);
      this.play.unshift(first!);
      this.current = 0;
    } else {
      this.current = at;
    }
  }

  /** Puts back a queue as it was saved: `tracks` in play order, `current` current, nothing
   * reshuffled (with shuffle on, the saved play order becomes the original one too). */
  restore(tracks: number[], current: number | null): void {
    this.items.clear();
    this.order = this.add(tracks);
    this.play = [...this.order];
    this.current = current !== null && current >= 0 && current < this.play.length ? current : null;
  }

  /** Queues `tracks` right after the current item (at the front when there is none). */
  insertNext(tracks: number[]): void {
    const ids = this.add(tracks);
    const at = this.current === null ? 0 : this.current + 1;
    this.play.splice(at, 0, ...ids);
    if (this.shuffled) {
      const current = this.currentItem();
      const inOrder = current === null ? 0 : this.order.indexOf(current) + 1;
      this.order.splice(inOrder, 0, ...ids);
    } else {
      this.order = [...this.play];
    }
  }

  /** Queues `tracks` at the end. */
  append(tracks: number[]): void {
    const ids = this.add(tracks);
    this.play.push(...ids);
    this.order.push(...ids);
  }

  /** Removes the items `ids` names (unknown ids are ignored). Returns whether the current item
   * was among them; the item that followed it, if any, is current then. */
  remove(ids: number[]): boolean {
    const doomed = ids.filter((id) => this.items.has(id));
    if (!doomed.length) return false;
    const current = this.currentItem();
    const at = this.current;
    for (const id of doomed) this.items.delete(id);
    const survivorsBefore = at === null ? null : this.play.slice(0, at).filter((id) => this.items.has(id)).length;
    this.play = this.play.filter((id) => this.items.has(id));
    this.order = this.order.filter((id) => this.items.has(id));
    if (current === null) return false;
    if (!this.items.has(current)) {
      this.current = survivorsBefore !== null && survivorsBefore < this.play.length ? survivorsBefore : null;
      return true;
    }
    this.current = this.play.indexOf(current);
    return false;
  }

  /** Moves `item` to index `to` of the play order (clamped to the end); the current item stays
   * current wherever it ends up. Returns false for an unknown item. */
  move(item: number, to: number): boolean {
    const from = this.play.indexOf(item);
    if (from < 0) return false;
    const current = this.currentItem();
    this.play.splice(from, 1);
    this.play.splice(Math.min(Math.max(0, to), this.play.length), 0, item);
    this.current = current === null ? null : this.play.indexOf(current);
    if (!this.shuffled) this.order = [...this.play];
    return true;
  }

  /** Drops every item after the current one (every item, when there is none). */
  clearUpcoming(): void {
    const keep = this.current === null ? 0 : this.current + 1;
    for (const id of this.play.splice(keep)) this.items.delete(id);
    this.order = this.order.filter((id) => this.items.has(id));
  }

  /** Makes `item` current. Returns false for an unknown item. */
  setCurrent(item: number): boolean {
    const at = this.play.indexOf(item);
    if (at < 0) return false;
    this.current = at;
    return true;
  }

  /** Makes the first item current (after the queue has ended). Returns false when empty. */
  restart(): boolean {
    this.current = this.play.length ? 0 : null;
    return this.current !== null;
  }

  /** The queue has played to its end: nothing is current. */
  finish(): void {
    this.current = null;
  }

  /** Makes the item before the current one current. Returns false at the start. */
  goBack(): boolean {
    if (this.current === null || this.current === 0) return false;
    this.current -= 1;
    return true;
  }

  /** Moves on from the current item: to the same item under repeat-one (unless `manual`, a skip
   * by the listener, which moves on as repeat-all does), to the next one in play order, and past
   * the end to nothing or, repeating, to the start of a new cycle. Returns false when the queue
   * has ended (nothing is current then). */
  advance(manual: boolean): boolean {
    if (this.current === null) return false;
    if (this.repeating === 'one' && !manual) return true;
    if (this.current + 1 < this.play.length) {
      this.current += 1;
      return true;
    }
    if (this.repeating === 'off') {
      this.current = null;
      return false;
    }
    if (this.shuffled) {
      const last = this.play[this.play.length - 1];
      const cycle = [...this.play];
      this.shuffleInPlace(cycle, 0);
      // The new cycle does not open with the track that closed the last one.
      if (cycle.length > 1 && cycle[0] === last) {
        const other = 1 + this.below(cycle.length - 1);
        [cycle[0], cycle[other]] = [cycle[other]!, cycle[0]!];
      }
      this.play = cycle;
    }
    this.current = 0;
    return true;
  }

  /** Turns shuffle on (shuffling what is still to come) or off (back to the original order,
   * going on after the current item). */
  setShuffle(on: boolean): void {
    if (on === this.shuffled) return;
    this.shuffled = on;
    const current = this.currentItem();
    if (on) {
      this.shuffleInPlace(this.play, this.current === null ? 0 : this.current + 1);
    } else {
      this.play = [...this.order];
      this.current = current === null ? null : this.play.indexOf(current);
    }
  }

  setRepeat(repeat: RepeatMode): void {
    this.repeating = repeat;
  }

  /** A whole number in `0..n` (`n > 0`). */
  private below(n: number): number {
    return Math.min(n - 1, Math.floor(this.random() * n));
  }

  /** Fisher-Yates over `items[from..]`. */
  private shuffleInPlace(items: number[], from: number): void {
    for (let i = items.length - 1; i > from; i--) {
      const j = from + this.below(i - from + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
  }
}
