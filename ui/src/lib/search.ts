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

/**
 * What the main view is keyed on: a new key mounts a fresh view. Every keystroke in the search
 * field replaces the route with one for the new text; all search routes share one key, so the
 * search view stays and follows its text, showing the last answer until the next one comes in,
 * instead of being torn down and drawn again empty at each key. Any other route is its own key,
 * so going to a view, even the one already shown, opens it afresh.
 */
export function viewKey(route: Route): Route | 'search' {
  return route.view === 'search' ? 'search' : route;
}
