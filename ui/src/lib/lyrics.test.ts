import { describe, expect, it } from 'vitest';
import { currentLine, noLyrics } from './lyrics';
import type { LyricLine } from './types';

const at = (...times: number[]): LyricLine[] => times.map((start_ms, i) => ({ start_ms, text: `line ${i}` }));

describe('lyrics', () => {
  it('follows the line being sung', () => {
    const lines = at(1_000, 2_500, 2_500, 4_000);
    expect(currentLine(lines, 0)).toBe(-1);
    expect(currentLine(lines, 999)).toBe(-1);
    expect(currentLine(lines, 1_000)).toBe(0);
    expect(currentLine(lines, 2_499)).toBe(0);
    // Two lines at one time: the later of them.
    expect(currentLine(lines, 2_500)).toBe(2);
    expect(currentLine(lines, 10_000_000)).toBe(3);
    expect(currentLine([], 5_000)).toBe(-1);
  });

  it('points to .lrc files where songs are in music folders', () => {
    expect(noLyrics(true)).toMatch(/\.lrc file/);
    expect(noLyrics(false)).toBe('No lyrics in this song’s file.');
  });
});
