import { describe, expect, it } from 'vitest';
import { changeLines, describeReason, matched, matchedBy, playlistLine } from './history';
import type { ImportReport } from './types';

function report(): ImportReport {
  return {
    kind: 'itunes',
    source: '/x/Library.xml',
    applied: false,
    import: null,
    tracks: { in_source: 10, by_location: 6, by_mapping: 1, by_audio_id: 0, by_tags: 2, unmatched: 1 },
    changes: { tracks: 7, ratings: 3, play_counts: 7, last_played: 0, added: 1, loved: 0 },
    playlists: [],
    skipped_playlists: [],
    unmatched: [],
    mappings: [],
    proposed_mappings: [],
  };
}

describe('import report wording', () => {
  it('counts and explains matches', () => {
    expect(matched(report())).toBe(9);
    expect(matchedBy(report())).toBe('6 by location, 1 under a moved folder, 2 by their tags and length');
  });

  it('lists only the changes that happen', () => {
    expect(changeLines(report())).toEqual(['ratings of 3 songs', 'play counts of 7 songs', 'dates added of 1 song']);
  });

  it('explains every reason', () => {
    expect(describeReason({ code: 'not_in_library', path: '/a/b.mp3' })).toContain('/a/b.mp3');
    expect(describeReason({ code: 'duration_differs', library_ms: 200_000, source_ms: 187_000 })).toBe(
      'A song with its tags lasts 3:20, not 3:07',
    );
    expect(describeReason({ code: 'ambiguous', candidates: 2 })).toMatch(/^2 songs/);
    expect(describeReason({ code: 'video' })).toMatch(/video/);
  });

  it('describes a smart playlist as a snapshot', () => {
    const line = playlistLine({ name: 'Top', entries: 25, missing_entries: 2, smart: true, action: 'create', playlist: null });
    expect(line).toBe('25 songs, new; 2 not in your library; a smart playlist, imported as a fixed list of its songs today');
  });
});
