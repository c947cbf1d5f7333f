import { describe, expect, it } from 'vitest';
import { between, farFrom, idList, missing, scrollToRow, visibleWindow } from './virtual';

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
