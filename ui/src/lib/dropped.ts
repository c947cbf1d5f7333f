// What a drop from outside the page carries: files, of which the music ones upload to the locker.
// A drag of songs inside the page carries track ids instead (actions.ts), never files.

/** The extensions the library reads, as the folder scanner's `AUDIO_EXTENSIONS`
 * (crates/catalog/src/scan.rs): anything else would be refused by the locker after upload. */
const MUSIC_EXTENSIONS = new Set([
  'mp3',
  'mp2',
  'flac',
  'ogg',
  'oga',
  'opus',
  'm4a',
  'm4b',
  'mp4',
  'wav',
  'aiff',
  'aif',
  'aifc',
  'wv',
  'ape',
]);

/** What a file chooser offers for upload: the same extensions, and audio types for files
 * without one. */
export const MUSIC_ACCEPT = [...[...MUSIC_EXTENSIONS].map((e) => `.${e}`), 'audio/*'].join(',');

/** Playlist types, which browsers file under audio/ but hold no music. */
const PLAYLIST_TYPES = new Set(['audio/x-mpegurl', 'audio/mpegurl', 'audio/x-scpls']);

/** Whether a drag carries files from outside the page (the browser lists them as "Files"). */
export function carriesFiles(e: DragEvent): boolean {
  return !!e.dataTransfer?.types.includes('Files');
}

/** Whether a file looks like music the library can read: by its extension, or, without one, by
 * an audio type. */
export function isMusicFile(file: { name: string; type: string }): boolean {
  const dot = file.name.lastIndexOf('.');
  if (dot > 0) return MUSIC_EXTENSIONS.has(file.name.slice(dot + 1).toLowerCase());
  return file.type.startsWith('audio/') && !PLAYLIST_TYPES.has(file.type);
}
