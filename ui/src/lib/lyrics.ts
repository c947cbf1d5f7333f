// Following timed lyrics as a song plays, and what a song with none shows.
import type { LyricLine } from './types';

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
 * What a song with no lyrics shows. `lrcFiles`: the songs' files are in music folders, where an
 * `.lrc` file beside one gives its timed lyrics.
 */
export function noLyrics(lrcFiles: boolean): string {
  return lrcFiles
    ? 'No lyrics in this song’s file, and no .lrc file of the same name beside it.'
    : 'No lyrics in this song’s file.';
}
