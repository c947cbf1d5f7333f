// The shapes the app's commands and events carry (mirrors of the Rust types they serialize).

export type Availability = 'local' | 'locker' | 'both' | 'downloaded' | 'missing';

export interface Track {
  id: number;
  uid: string;
  path: string | null;
  title: string;
  artist: string;
  artists: string[];
  album: string;
  album_id: number;
  album_artist: string;
  track_no: number | null;
  track_total: number | null;
  disc_no: number | null;
  disc_total: number | null;
  year: number | null;
  date: string | null;
  genre: string;
  composer: string | null;
  duration_ms: number;
  sample_rate: number | null;
  channels: number | null;
  bit_depth: number | null;
  bitrate_kbps: number | null;
  codec: string;
  has_cover: boolean;
  cover_hash: string | null;
  play_count: number;
  last_played: number | null;
  rating: number | null;
  added: number;
  availability: Availability;
}

export interface Album {
  id: number;
  title: string;
  album_artist: string;
  album_artist_id: number;
  year: number | null;
  track_count: number;
  duration_ms: number;
  cover_hash: string | null;
  compilation: boolean;
}

export interface Artist {
  id: number;
  name: string;
  album_count: number;
  track_count: number;
}

export interface Genre {
  id: number;
  name: string;
  track_count: number;
}

export interface Root {
  id: number;
  path: string;
  reachable: boolean;
}

export interface AppInfo {
  version: string;
  data_dir: string;
  cover_dir: string;
  roots: Root[];
  track_count: number;
  wizard_done: boolean;
  scanning: boolean;
  /** The account signed in, in the locker's web player (where folders and wizard are empty). */
  user?: string;
}

export interface ScanProgress {
  discovered: number;
  processed: number;
  failed: number;
  current: string | null;
  walk_done: boolean;
}

export interface ScanFailure {
  path: string;
  reason: string;
}

export interface ScanReport {
  scanned: number;
  added: number;
  updated: number;
  moved: number;
  removed: number;
  unchanged: number;
  failed: ScanFailure[];
  missing_roots: string[];
  cancelled: boolean;
  elapsed_ms: number;
}

export interface AppError {
  kind: 'not_found' | 'invalid_input' | 'io' | 'database' | 'playback' | 'internal';
  message: string;
}

export interface ScanFinished {
  report: ScanReport | null;
  error: AppError | null;
}

export interface LibraryStats {
  tracks: number;
  albums: number;
  album_artists: number;
  artists: number;
  genres: number;
  playlists: number;
  duration_ms: number;
  bytes: number;
  missing: number;
}

export interface SearchResults {
  artists: Artist[];
  albums: Album[];
  tracks: Track[];
}

export interface Playlist {
  id: number;
  uid: string;
  name: string;
  item_count: number;
  duration_ms: number;
}

export interface PlaylistItem {
  id: number;
  track: Track;
}

export interface M3uImport {
  playlist: number;
  added: number;
  unresolved: string[];
}

export type TrackSort =
  | 'title'
  | 'artist'
  | 'album'
  | 'album_artist'
  | 'year'
  | 'genre'
  | 'duration'
  | 'date_added'
  | 'play_count'
  | 'last_played'
  | 'rating';

export type RepeatMode = 'off' | 'one' | 'all';
export type GainMode = 'off' | 'track' | 'album';

export interface ReplayGainSetting {
  mode: GainMode;
  preamp_db: number;
  prevent_clipping: boolean;
}

export interface QueueRow {
  item: number;
  track: number | null;
}

export interface NowPlaying {
  state: 'stopped' | 'playing' | 'paused';
  queue: QueueRow[];
  current: number | null;
  position_ms: number;
  shuffle: boolean;
  repeat: RepeatMode;
  volume: number;
  muted: boolean;
  buffering: boolean;
  device: string | null;
}

export interface PlaybackError {
  track: number | null;
  message: string;
}

export interface Settings {
  volume: number;
  muted: boolean;
  shuffle: boolean;
  repeat: RepeatMode;
  replay_gain: ReplayGainSetting;
  output_device: string | null;
  wizard_done: boolean;
}

/** What an import reads. */
export type ImportSource = 'itunes' | 'm3u' | 'stats';

/** Locations under `from` looked for under `to`. */
export interface RootMapping {
  from: string;
  to: string;
}

/** A mapping the import proposes from locations that matched nothing, with how many it would match. */
export interface ProposedMapping extends RootMapping {
  tracks: number;
}

/** Why an entry of the source matched no library track. */
export type UnmatchedReason =
  | { code: 'not_in_library'; path: string | null }
  | { code: 'duration_differs'; library_ms: number; source_ms: number }
  | { code: 'ambiguous'; candidates: number }
  | { code: 'already_matched'; by: string }
  | { code: 'cloud_only' }
  | { code: 'video' }
  | { code: 'not_a_file' };

export interface UnmatchedTrack {
  source_id: string;
  title: string;
  artist: string;
  album: string;
  location: string | null;
  reason: UnmatchedReason;
}

export interface PlaylistPlan {
  name: string;
  entries: number;
  missing_entries: number;
  smart: boolean;
  action: 'create' | 'replace' | 'unchanged';
  playlist: number | null;
}

/** What an import would do (a plan) or did (once applied). */
export interface ImportReport {
  kind: ImportSource;
  source: string;
  applied: boolean;
  import: number | null;
  tracks: {
    in_source: number;
    by_location: number;
    by_mapping: number;
    by_audio_id: number;
    by_tags: number;
    unmatched: number;
  };
  changes: {
    tracks: number;
    ratings: number;
    play_counts: number;
    last_played: number;
    added: number;
    loved: number;
  };
  playlists: PlaylistPlan[];
  skipped_playlists: { name: string; reason: 'built_in' | 'folder' | 'no_audio' }[];
  unmatched: UnmatchedTrack[];
  mappings: RootMapping[];
  proposed_mappings: ProposedMapping[];
}

/** An applied import in the journal. */
export interface ImportRecord {
  id: number;
  kind: ImportSource;
  source: string;
  imported_at: number;
  undone_at: number | null;
  tracks_changed: number;
  playlists_written: number;
}

export interface UndoReport {
  import: number;
  tracks_restored: number;
  playlists_deleted: number;
  playlists_restored: number;
}

/** What an export wrote. */
export interface ExportReport {
  dir: string;
  playlists: { name: string; file: string; entries: number; left_out: number }[];
  tracks: number;
  copied: number;
  already_copied: number;
  bytes_copied: number;
  not_copied: { track: number; path: string; reason: string }[];
  locker_only: number;
  from_locker: number;
}

/** What a sync pushed and pulled (locker-client's SyncReport). */
export interface SyncReport {
  pushed: { pushed: number; applied: number };
  pulled: {
    ops: number;
    tracks_added: number;
    tracks_joined: number;
    plays_added: number;
    playlists_changed: number;
    entries_changed: number;
    skipped: number;
    requests: number;
    cursor: number;
  };
  covers: number;
}

/** What "Download for Offline" keeps: a song, or an album or playlist with every song it has. */
export type Pin = { kind: 'track' | 'album' | 'playlist'; id: number };

/** The locker as the app sees it. */
export interface CloudStatus {
  server: string | null;
  user: string | null;
  syncing: boolean;
  last_sync_ms: number | null;
  last_error: string | null;
  last_report: SyncReport | null;
  pending_changes: number;
  upload: UploadStatus | null;
}

/** How far an upload of the library has got. */
export type LibraryProgress =
  | { stage: 'hashing'; done: number; total: number }
  | {
      stage: 'uploading';
      files_done: number;
      files_total: number;
      bytes_done: number;
      bytes_total: number;
      /** The title of the file whose bytes went last. */
      current: string | null;
      /** Over the last few seconds. */
      bytes_per_second: number;
      eta_seconds: number | null;
    };

/** What "Upload my music" sends (empty lists: everything) and how fast it may go. */
export interface UploadChoice {
  folders: string[];
  playlists: number[];
  limit_kbps: number | null;
}

/** What an upload of the library did. */
export interface LibraryUploadReport {
  have: number;
  claimed: number;
  uploaded: number;
  bytes_sent: number;
  failed: number;
  failures: [string, string][];
  dry_run: boolean;
  paused: boolean;
}

/** An upload of the library, running or done. */
export interface UploadStatus {
  running: boolean;
  progress: LibraryProgress | null;
  report: LibraryUploadReport | null;
  error: string | null;
}

/** One line of a song's lyrics; timed lyrics say when each line is sung. */
export interface LyricLine {
  start_ms: number | null;
  text: string;
}

/** A song's lyrics, from an LRC file beside its file or from its tags. */
export interface Lyrics {
  source: 'lrc_file' | 'tags';
  /** Every line has its time, and the lines are in time order. */
  timed: boolean;
  lines: LyricLine[];
}
