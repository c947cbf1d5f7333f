// Search answers in two sizes: a first answer small enough to come back and draw within a
// keystroke (a few of each group, like a "top results" page), and on request everything one
// group matches.
import type { Route } from './app.svelte';
import type { SearchResults } from './types';

/** Results shown per group in the first answer. */
export const FIRST = 12;

/** Results asked for when one group is shown whole (the catalog's own cap is higher). */
export const ALL = 500;

export type SearchGroup = 'artists' | 'albums' | 'tracks';

/** How many of each group to ask for: one more than shown, so a full group knows it has more. */
export function searchLimit(expanded: SearchGroup | null): number {
  return expanded ? ALL : FIRST + 1;
}

export interface ShownResults extends SearchResults {
  /** Whether a group has more than it shows (it then offers to show them all). */
  more: Record<SearchGroup, boolean>;
}

/** What to show of `results`: the first few of each group, or the whole of `expanded` alone. */
export function shownResults(results: SearchResults, expanded: SearchGroup | null): ShownResults {
  if (expanded) {
    return {
      artists: expanded === 'artists' ? results.artists : [],
      albums: expanded === 'albums' ? results.albums : [],
      tracks: expanded === 'tracks' ? results.tracks : [],
      more: { artists: false, albums: false, tracks: false },
    };
  }
  return {
    artists: results.artists.slice(0, FIRST),
    albums: results.albums.slice(0, FIRST),
    tracks: results.tracks.slice(0, FIRST),
    more: {
      artists: results.artists.length > FIRST,
      albums: results.albums.length > FIRST,
      tracks: results.tracks.length > FIRST,
    },
  };
}

/** Where a search with nothing beneath it returns to. */
const HOME: Route = { view: 'songs' };

/**
 * The view a search is shown over: the route itself when it is not a search, else the last one
 * before it that is not. The main view is keyed on it, so the search's keystrokes keep it, and it
 * is kept, hidden, while the search shows: clearing the search shows it again at once, where it
 * was, instead of opening it afresh while the next search is typed. Any other route is its own
 * key, so going to a view, even the one already shown, opens it afresh.
 */
export function beneath(route: Route, history: readonly { route: Route }[]): Route {
  if (route.view !== 'search') return route;
  for (let at = history.length - 1; at >= 0; at--) {
    const before = history[at]!.route;
    if (before.view !== 'search') return before;
  }
  return HOME;
}

/** How long a first key waits for its answer before the search view opens without it. */
export const OPEN_WAIT_MS = 150;

/**
 * Opening the search view from another view. The switch waits for the first answer (at most
 * `wait` ms), and the view opens with it, so the switch and the results are drawn in one frame:
 * opening the view empty first cost a frame of style, layout and painting (about 30 ms in
 * software rendering) before the answer could even be handled (docs/benchmarks.md).
 */
export class SearchOpener {
  /** The answer the view takes as it opens. */
  #handed: { query: string; limit: number; results: SearchResults } | null = null;
  /** Counts the keys typed away from the view and the clearings: only the latest opens it. */
  #generation = 0;

  constructor(
    private readonly search: (query: string, limit: number) => Promise<SearchResults>,
    private readonly open: (text: string) => void,
    private readonly wait = OPEN_WAIT_MS,
  ) {}

  /** The user typed `text` (not blank) away from the search view. */
  type(text: string): void {
    const mine = ++this.#generation;
    this.#handed = null;
    const query = text.trim();
    const limit = searchLimit(null);
    let opened = false;
    const current = () => mine === this.#generation && !opened;
    const open = () => {
      if (!current()) return;
      opened = true;
      this.open(text);
    };
    setTimeout(open, this.wait);
    this.search(query, limit).then(
      (results) => {
        if (!current()) return;
        this.#handed = { query, limit, results };
        open();
      },
      // The view asks again when it opens, and shows what went wrong.
      open,
    );
  }

  /** The search text was cleared before the view opened: it does not open. */
  cancel(): void {
    this.#generation++;
    this.#handed = null;
  }

  /** The answer for `query` at `limit` fetched before the view opened, once; else null. */
  take(query: string, limit: number): SearchResults | null {
    const handed = this.#handed;
    this.#handed = null;
    return handed && handed.query === query && handed.limit === limit ? handed.results : null;
  }
}
