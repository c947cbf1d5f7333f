import { describe, expect, it } from 'vitest';
import { ALL, FIRST, searchLimit, shownResults, viewKey } from './search';
import type { Album, Artist, SearchResults, Track } from './types';

function results(artists: number, albums: number, tracks: number): SearchResults {
  const many = <T>(n: number, make: (i: number) => T) => Array.from({ length: n }, (_, i) => make(i));
  return {
    artists: many(artists, (id) => ({ id }) as Artist),
    albums: many(albums, (id) => ({ id }) as Album),
    tracks: many(tracks, (id) => ({ id }) as Track),
  };
}

describe('search answers', () => {
  it('asks for one more than it shows first, and for everything of an expanded group', () => {
    expect(searchLimit(null)).toBe(FIRST + 1);
    expect(searchLimit('tracks')).toBe(ALL);
  });

  it('shows the first few of each group and knows which have more', () => {
    const shown = shownResults(results(FIRST + 1, FIRST, 3), null);
    expect(shown.artists).toHaveLength(FIRST);
    expect(shown.albums).toHaveLength(FIRST);
    expect(shown.tracks).toHaveLength(3);
    expect(shown.more).toEqual({ artists: true, albums: false, tracks: false });
  });

  it('shows an expanded group whole and the others not at all', () => {
    const shown = shownResults(results(40, 30, 200), 'albums');
    expect(shown.albums).toHaveLength(30);
    expect(shown.artists).toEqual([]);
    expect(shown.tracks).toEqual([]);
    expect(shown.more).toEqual({ artists: false, albums: false, tracks: false });
  });
});

describe('viewKey', () => {
  it('keeps one view for all of a search as it is typed, and opens any other route afresh', () => {
    expect(viewKey({ view: 'search', text: 'b' })).toBe(viewKey({ view: 'search', text: 'be' }));
    const songs = { view: 'songs' } as const;
    expect(viewKey(songs)).toBe(songs);
    expect(viewKey(songs)).not.toBe(viewKey({ view: 'songs' }));
    expect(viewKey({ view: 'album', id: 3 })).not.toBe(viewKey({ view: 'search', text: 'x' }));
  });
});
