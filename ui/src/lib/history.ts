// Wording for import reports: what an import would change, and why an entry matched nothing.

import { duration, plural } from './format';
import type { ImportReport, PlaylistPlan, UnmatchedReason } from './types';

/** Why an entry matched no library track, as a sentence. */
export function describeReason(reason: UnmatchedReason): string {
  switch (reason.code) {
    case 'not_in_library':
      return reason.path
        ? `No file at ${reason.path}, and no song in your library with its title, artist and album`
        : 'No location, and no song in your library with its title, artist and album';
    case 'duration_differs':
      return `A song with its tags lasts ${duration(reason.library_ms)}, not ${duration(reason.source_ms)}`;
    case 'ambiguous':
      return `${reason.candidates} songs have its tags and length; none was picked`;
    case 'already_matched':
      return `The song with its tags already matched entry ${reason.by}`;
    case 'cloud_only':
      return 'Only in Apple’s cloud or an internet stream, and no song in your library with its tags';
    case 'video':
      return 'A video; Skylark keeps audio only';
    case 'not_a_file':
      return 'Not a file';
  }
}

/** How many of the source's tracks matched a library song. */
export function matched(report: ImportReport): number {
  return report.tracks.in_source - report.tracks.unmatched;
}

/** "how matched" parts: "1,200 by location, 30 by tags". */
export function matchedBy(report: ImportReport): string {
  const t = report.tracks;
  const parts: [number, string][] = [
    [t.by_location, 'by location'],
    [t.by_mapping, 'under a moved folder'],
    [t.by_audio_id, 'by their audio'],
    [t.by_tags, 'by their tags and length'],
  ];
  return parts
    .filter(([n]) => n > 0)
    .map(([n, how]) => `${n.toLocaleString('en-US')} ${how}`)
    .join(', ');
}

/** What the import changes in songs' statistics, one phrase per kind of change. */
export function changeLines(report: ImportReport): string[] {
  const c = report.changes;
  const lines: [number, string][] = [
    [c.ratings, 'ratings'],
    [c.play_counts, 'play counts'],
    [c.last_played, 'last played dates'],
    [c.added, 'dates added'],
    [c.loved, 'loved marks'],
  ];
  return lines.filter(([n]) => n > 0).map(([n, what]) => `${what} of ${plural(n, 'song')}`);
}

/** What happens to one playlist. */
export function playlistLine(p: PlaylistPlan): string {
  const action = { create: 'new', replace: 'replaces the one imported before', unchanged: 'unchanged' }[p.action];
  let line = `${plural(p.entries, 'song')}, ${action}`;
  if (p.missing_entries) line += `; ${p.missing_entries} not in your library`;
  if (p.smart) line += '; a smart playlist, imported as a fixed list of its songs today';
  return line;
}
