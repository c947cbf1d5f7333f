import { describe, expect, it } from 'vitest';
import { between, farFrom, gridColumns, gridWindow, idList, missing, scrollToRow, visibleWindow } from './virtual';

describe('visibleWindow', () => {
  it('renders only the rows in view plus overscan', () => {
    const w = visibleWindow(3200, 640, 32, 100_000, 8);
    expect(w.start).toBe(92);
    expect(w.end).toBe(100 + 20 + 8 + 1);
    expect(w.offset).toBe(92 * 32);
    expect(w.end - w.start).toBeLessThan(50);
  });

  it('stays inside the list at both ends', () => {
    expect(visibleWindow(0, 640, 32, 5)).toEqual({ start: 0, end: 5, offset: 0 });
    const last = visibleWindow(1e9, 640, 32, 1000);
    expect(last.end).toBe(1000);
    expect(last.start).toBeLessThan(1000);
    expect(visibleWindow(0, 640, 32, 0)).toEqual({ start: 0, end: 0, offset: 0 });
  });
});

describe('gridColumns', () => {
  it('fits as many items as their width and the gaps between them allow', () => {
    expect(gridColumns(168, 168, 18)).toBe(1);
    expect(gridColumns(353, 168, 18)).toBe(1);
    expect(gridColumns(354, 168, 18)).toBe(2);
    expect(gridColumns(1097, 168, 18)).toBe(5);
    expect(gridColumns(1098, 168, 18)).toBe(6);
  });

  it('keeps at least one column, even before the grid is measured', () => {
    expect(gridColumns(0, 168, 18)).toBe(1);
    expect(gridColumns(-5, 168, 18)).toBe(1);
  });
});

describe('gridWindow', () => {
  it('renders whole rows in view plus overscan', () => {
    // 10,000 items in rows of 6, 238 px apart; 20 rows scrolled past, 800 px in view.
    const w = gridWindow(20 * 238 + 100, 800, 238, 6, 10_000, 2);
    expect(w.start).toBe(18 * 6);
    expect(w.end).toBe((20 + 4 + 2 + 1) * 6);
    expect(w.offset).toBe(18 * 238);
  });

  it('stays inside the grid at both ends, with a last row part full', () => {
    expect(gridWindow(-300, 800, 238, 6, 10)).toEqual({ start: 0, end: 10, offset: 0 });
    const last = gridWindow(1e9, 800, 238, 6, 10_001);
    expect(last.end).toBe(10_001);
    expect(last.start % 6).toBe(0);
    expect(gridWindow(0, 800, 238, 6, 0)).toEqual({ start: 0, end: 0, offset: 0 });
  });
});

describe('missing', () => {
  it('lists ids in range that are not loaded, once each', () => {
    const have = new Set([2, 4]);
    expect(missing([1, 2, 3, 4, 5, 3], 0, 6, have)).toEqual([1, 3, 5]);
    expect(missing([1, 2, 3], 1, 99, have)).toEqual([3]);
    expect(missing(new Float64Array([1, 2, 3, 4, 5, 3]), 0, 6, have)).toEqual([1, 3, 5]);
  });
});

describe('farFrom', () => {
  it('lists cached ids outside the range that are not kept', () => {
    const ids = new Float64Array([10, 20, 30, 40, 50, 60]);
    expect(farFrom(ids, 2, 4, [10, 30, 40, 60, 99])).toEqual([10, 60, 99]);
    expect(farFrom(ids, 2, 4, [10, 30, 60], new Set([60]))).toEqual([10]);
    expect(farFrom(ids, -10, 100, [10, 60, 99])).toEqual([99]);
    expect(farFrom([], 0, 5, [1, 2])).toEqual([1, 2]);
  });
});

describe('between', () => {
  it('copies a clamped range of either kind of list into a plain array', () => {
    const ids = new Float64Array([10, 20, 30, 40]);
    const part = between(ids, 1, 3);
    expect(Array.isArray(part)).toBe(true);
    expect(part).toEqual([20, 30]);
    expect(between(ids, -5, 99)).toEqual([10, 20, 30, 40]);
    expect(between([1, 2], 2, 5)).toEqual([]);
    // A plain array, so it goes into JSON as a list and not as an object of indexes.
    expect(JSON.stringify(between(ids, 0, 2))).toBe('[10,20]');
  });
});

describe('idList', () => {
  it('reads the raw floats the app sends and the JSON array the locker sends alike', () => {
    const raw = new Float64Array([7, 1, 100_000, 2 ** 53 - 1]).buffer;
    expect(Array.from(idList(raw))).toEqual([7, 1, 100_000, 2 ** 53 - 1]);
    expect(Array.from(idList([3, 2, 1]))).toEqual([3, 2, 1]);
    expect(idList(new ArrayBuffer(0)).length).toBe(0);
  });
});

describe('scrollToRow', () => {
  it('scrolls the least needed to show a row', () => {
    expect(scrollToRow(5, 0, 320, 32)).toBeNull();
    expect(scrollToRow(20, 0, 320, 32)).toBe(21 * 32 - 320);
    expect(scrollToRow(2, 320, 320, 32)).toBe(64);
  });
});
