// Typed calls to the app's commands. Everything the UI asks of the app goes through here, to
// whichever backend this build runs on (lib/backend/).

import { call } from './backend';
import { idList } from './virtual';
import type {
  Album,
  AppInfo,
  Artist,
  CloudStatus,
  ExportReport,
  Genre,
  ImportRecord,
  ImportReport,
  ImportSource,
  LibraryStats,
  Lyrics,
  M3uImport,
  NowPlaying,
  Pin,
  Playlist,
  PlaylistItem,
  RepeatMode,
  ReplayGainSetting,
  Root,
  RootMapping,
  SearchResults,
  Settings,
  Track,
  TrackSort,
  UploadChoice,
  UndoReport,
} from './types';

export const api = {
  appInfo: () => call<AppInfo>('app_info'),
  cloudStatus: () => call<CloudStatus>('cloud_status'),
  cloudSignIn: (server: string, user: string, password: string) =>
    call<CloudStatus>('cloud_sign_in', { server, user, password }),
  cloudSignOut: () => call<void>('cloud_sign_out'),
  cloudSync: () => call<void>('cloud_sync'),
  cloudDownload: (pins: Pin[]) => call<number>('cloud_download', { pins }),
  cloudRemove: (tracks: number[]) => call<number>('cloud_remove', { tracks }),
  offlinePinned: (pin: Pin) => call<boolean>('offline_pinned', { pin }),
  offlineUnpin: (pin: Pin) => call<void>('offline_unpin', { pin }),
  cloudUpload: (choice: UploadChoice) => call<void>('cloud_upload', { choice }),
  cloudUploadLimit: (limitKbps: number | null) => call<void>('cloud_upload_limit', { limitKbps }),
  cloudUploadPause: () => call<void>('cloud_upload_pause'),
  settings: () => call<Settings>('get_settings'),
  setWizardDone: (done: boolean) => call<void>('set_wizard_done', { done }),
  roots: () => call<Root[]>('roots'),
  removeRoot: (id: number) => call<void>('remove_root', { id }),
  scan: (paths: string[]) => call<void>('scan', { paths }),
  cancelScan: () => call<void>('cancel_scan'),
  /** Every track id in this order: the app sends them as raw floats, the locker as JSON. */
  trackIds: async (sort: TrackSort, descending: boolean): Promise<Float64Array> =>
    idList(await call<ArrayBuffer | number[]>('track_ids', { sort, descending })),
  tracks: (ids: number[]) => call<Track[]>('tracks', { ids }),
  /** The lyrics in the song's file on this computer, if any (only where `features.lyrics`). */
  trackLyrics: (id: number) => call<Lyrics | null>('track_lyrics', { id }),
  albums: () => call<Album[]>('albums'),
  album: (id: number) => call<{ album: Album; tracks: Track[] }>('album', { id }),
  artists: () => call<Artist[]>('artists'),
  artist: (id: number) =>
    call<{ artist: Artist; albums: Album[]; tracks: Track[] }>('artist', { id }),
  genres: () => call<Genre[]>('genres'),
  genreTracks: (id: number) => call<Track[]>('genre_tracks', { id }),
  recentlyAdded: (limit: number) => call<Track[]>('recently_added', { limit }),
  search: (text: string, limit: number) => call<SearchResults>('search', { text, limit }),
  stats: () => call<LibraryStats>('library_stats'),
  setRating: (id: number, rating: number | null) => call<void>('set_rating', { id, rating }),
  playlists: () => call<Playlist[]>('playlists'),
  playlist: (id: number) =>
    call<{ playlist: Playlist; items: PlaylistItem[] }>('playlist', { id }),
  createPlaylist: (name: string, tracks: number[] = []) =>
    call<number>('create_playlist', { name, tracks }),
  renamePlaylist: (id: number, name: string) => call<void>('rename_playlist', { id, name }),
  deletePlaylist: (id: number) => call<void>('delete_playlist', { id }),
  addToPlaylist: (id: number, tracks: number[], index: number | null = null) =>
    call<void>('add_to_playlist', { id, tracks, index }),
  removeFromPlaylist: (id: number, items: number[]) =>
    call<void>('remove_from_playlist', { id, items }),
  movePlaylistItem: (id: number, item: number, index: number) =>
    call<void>('move_playlist_item', { id, item, index }),
  importM3u: (path: string) => call<M3uImport>('import_m3u', { path }),
  exportM3u: (id: number, path: string) => call<void>('export_m3u', { id, path }),
  itunesLibraries: () => call<string[]>('itunes_libraries'),
  planImport: (source: ImportSource, paths: string[], mappings: RootMapping[]) =>
    call<ImportReport>('plan_import', { source, paths, mappings }),
  applyImport: () => call<ImportReport>('apply_import'),
  discardImport: () => call<void>('discard_import'),
  imports: () => call<ImportRecord[]>('imports'),
  undoImport: (id: number | null) => call<UndoReport>('undo_import', { id }),
  exportLibrary: (dir: string, copy: boolean, relative: boolean, locker: boolean) =>
    call<ExportReport>('export_library', { dir, copy, relative, locker }),

  nowPlaying: () => call<NowPlaying>('now_playing'),
  playTracks: (tracks: number[], start: number) => call<void>('play_tracks', { tracks, start }),
  playNext: (tracks: number[]) => call<void>('play_next', { tracks }),
  enqueue: (tracks: number[]) => call<void>('enqueue', { tracks }),
  queueRemove: (items: number[]) => call<void>('queue_remove', { items }),
  queueMove: (item: number, to: number) => call<void>('queue_move', { item, to }),
  queueClear: () => call<void>('queue_clear'),
  queueJump: (item: number) => call<void>('queue_jump', { item }),
  togglePlay: () => call<void>('toggle_play'),
  stop: () => call<void>('stop'),
  next: () => call<void>('next'),
  previous: () => call<void>('previous'),
  seek: (positionMs: number) => call<void>('seek', { positionMs: Math.max(0, Math.round(positionMs)) }),
  setVolume: (volume: number) => call<void>('set_volume', { volume }),
  setMuted: (muted: boolean) => call<void>('set_muted', { muted }),
  setShuffle: (shuffle: boolean) => call<void>('set_shuffle', { shuffle }),
  setRepeat: (mode: RepeatMode) => call<void>('set_repeat', { mode }),
  setReplayGain: (setting: ReplayGainSetting) => call<void>('set_replay_gain', { setting }),
  outputDevices: () => call<string[]>('output_devices'),
  setOutputDevice: (name: string | null) => call<void>('set_output_device', { name }),
};
