// Following timed lyrics as a song plays, and what to say when a song shows none.
import type { Availability, LyricLine } from './types';

/**
 * The line being sung at `positionMs` in timed `lines` (in time order): the last one whose time
 * has come, or -1 before the first.
 */
export function currentLine(lines: readonly LyricLine[], positionMs: number): number {
  let low = 0;
  let high = lines.length;
  // The first line whose time is still to come.
  while (low < high) {
    const mid = (low + high) >> 1;
    if ((lines[mid]!.start_ms ?? 0) <= positionMs) low = mid + 1;
    else high = mid;
  }
  return low - 1;
}

/**
 * Why a song shows no lyrics: they are read from its file, which may not be here (unless they
 * are read from the locker's copy, `fromLocker`).
 */
export function noLyrics(availability: Availability, fromLocker: boolean): string {
  if (fromLocker) return 'No lyrics in this song’s file.';
  switch (availability) {
    case 'locker':
      return 'This song’s file is in your locker, not on this computer: download it for offline to see lyrics in it.';
    case 'missing':
      return 'This song’s file cannot be reached now, so its lyrics cannot be read.';
    default:
      return 'No lyrics in this song’s file, and no .lrc file beside it.';
  }
}
