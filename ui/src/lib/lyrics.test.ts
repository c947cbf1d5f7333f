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

  it('says why a song shows none', () => {
    expect(noLyrics('locker', false)).toMatch(/locker/);
    expect(noLyrics('missing', false)).toMatch(/cannot be reached/);
    expect(noLyrics('local', false)).toMatch(/No lyrics/);
    expect(noLyrics('downloaded', false)).toMatch(/No lyrics/);
    // Read from the locker's copy: the file is always there to read.
    expect(noLyrics('locker', true)).toBe('No lyrics in this song’s file.');
  });
});
