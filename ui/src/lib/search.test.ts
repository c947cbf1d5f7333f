import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ALL, FIRST, SearchOpener, beneath, searchLimit, shownResults } from './search';
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

describe('the view beneath a search', () => {
  it('is the route itself away from search, and the view the search opened over during it', () => {
    const songs = { view: 'songs' } as const;
    const album = { view: 'album', id: 3 } as const;
    expect(beneath(songs, [])).toBe(songs);
    expect(beneath(album, [{ route: songs }])).toBe(album);
    const history = [{ route: songs }, { route: album }];
    expect(beneath({ view: 'search', text: 'b' }, history)).toBe(album);
    expect(beneath({ view: 'search', text: 'be' }, history)).toBe(album);
    // Back from an album opened from the search's results: the search is beneath nothing new.
    expect(beneath({ view: 'search', text: 'be' }, [{ route: songs }, { route: { view: 'search', text: 'b' } }])).toBe(songs);
    expect(beneath({ view: 'search', text: 'x' }, []).view).toBe('songs');
  });
});

describe('opening the search view from another view', () => {
  /** A search whose answers the test gives, and the texts the view was opened with. */
  function setup() {
    const asked: { query: string; answer: (r: SearchResults) => void; fail: (e: unknown) => void }[] = [];
    const opened: string[] = [];
    const opener = new SearchOpener(
      (query) => new Promise((answer, fail) => asked.push({ query, answer, fail })),
      (text) => opened.push(text),
      150,
    );
    return { asked, opened, opener };
  }
  const settle = () => vi.advanceTimersByTimeAsync(0);

  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('opens when the answer comes, and hands the view that answer once', async () => {
    const { asked, opened, opener } = setup();
    opener.type('ka ');
    await settle();
    expect(opened).toEqual([]);
    expect(asked.map((a) => a.query)).toEqual(['ka']);
    asked[0]!.answer(results(1, 2, 3));
    await settle();
    expect(opened).toEqual(['ka ']);
    expect(opener.take('ka', searchLimit(null))?.tracks).toHaveLength(3);
    expect(opener.take('ka', searchLimit(null))).toBeNull();
    await vi.advanceTimersByTimeAsync(500);
    expect(opened).toEqual(['ka ']);
  });

  it('opens without an answer when none comes in time, and ignores a late one', async () => {
    const { asked, opened, opener } = setup();
    opener.type('k');
    await vi.advanceTimersByTimeAsync(149);
    expect(opened).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(opened).toEqual(['k']);
    asked[0]!.answer(results(1, 1, 1));
    await settle();
    expect(opened).toEqual(['k']);
    expect(opener.take('k', searchLimit(null))).toBeNull();
  });

  it('opens with the newest text only, whichever answer comes first', async () => {
    const { asked, opened, opener } = setup();
    opener.type('k');
    opener.type('ka');
    asked[1]!.answer(results(0, 0, 2));
    asked[0]!.answer(results(0, 0, 9));
    await settle();
    expect(opened).toEqual(['ka']);
    expect(opener.take('ka', searchLimit(null))?.tracks).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(500);
    expect(opened).toEqual(['ka']);
  });

  it('does not open when the text is cleared first', async () => {
    const { asked, opened, opener } = setup();
    opener.type('k');
    opener.cancel();
    asked[0]!.answer(results(1, 1, 1));
    await vi.advanceTimersByTimeAsync(500);
    expect(opened).toEqual([]);
    expect(opener.take('k', searchLimit(null))).toBeNull();
  });

  it('opens when the search fails, for the view to ask again and show why', async () => {
    const { asked, opened, opener } = setup();
    opener.type('k');
    asked[0]!.fail(new Error('catalog locked'));
    await settle();
    expect(opened).toEqual(['k']);
    expect(opener.take('k', searchLimit(null))).toBeNull();
  });

  it('hands an answer only for the text and size it was asked with', async () => {
    const { asked, opener } = setup();
    opener.type('ka');
    asked[0]!.answer(results(1, 1, 1));
    await settle();
    expect(opener.take('kal', searchLimit(null))).toBeNull();
    opener.type('ka');
    asked[1]!.answer(results(1, 1, 1));
    await settle();
    expect(opener.take('ka', searchLimit('tracks'))).toBeNull();
  });
});
