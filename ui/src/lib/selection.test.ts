import { describe, expect, it } from 'vitest';
import { click, emptySelection, sorted, step } from './selection';

describe('selection', () => {
  it('selects, toggles and extends like a desktop list', () => {
    let s = click(emptySelection(), 3, false, false);
    expect(sorted(s)).toEqual([3]);
    s = click(s, 6, false, true);
    expect(sorted(s)).toEqual([3, 4, 5, 6]);
    s = click(s, 9, true, false);
    expect(sorted(s)).toEqual([3, 4, 5, 6, 9]);
    s = click(s, 4, true, false);
    expect(sorted(s)).toEqual([3, 5, 6, 9]);
    s = click(s, 1, false, false);
    expect(sorted(s)).toEqual([1]);
  });

  it('moves with the arrow keys and stays in the list', () => {
    let s = step(emptySelection(), 1, 10, false);
    expect(sorted(s)).toEqual([0]);
    s = step(s, -1, 10, false);
    expect(sorted(s)).toEqual([0]);
    s = step(s, 1, 10, true);
    s = step(s, 1, 10, true);
    expect(sorted(s)).toEqual([0, 1, 2]);
    expect(sorted(step(s, 50, 10, false))).toEqual([9]);
    expect(sorted(step(s, 1, 0, false))).toEqual([]);
  });
});
