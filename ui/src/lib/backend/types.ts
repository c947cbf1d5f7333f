// What the UI needs of whatever runs it: the desktop app over Tauri IPC, or the locker's web
// player over HTTP. `tauri.ts` and `http.ts` each implement `Backend`; `index.ts` exports the
// one the build chose, and views never learn which.

import type { Track } from '../types';

/**
 * What this backend can do. Views show an action only when its flag is set, so the two builds
 * differ in these values and nowhere else in the components.
 */
export interface Features {
  /** Music folders on this computer: adding, scanning, removing, and the first-run wizard. */
  folders: boolean;
  /** Signing in to a locker from Settings, syncing with it and uploading the library to it. */
  locker: boolean;
  /** Importing history from other players, undoing imports, and exporting the library. */
  imports: boolean;
  /** Importing and exporting playlists as M3U files. */
  m3u: boolean;
  /** Choosing the audio output device. */
  outputDevices: boolean;
  /** Levelling loudness with ReplayGain. */
  replayGain: boolean;
  /** Keeping locker songs on this computer to play with no network. */
  offline: boolean;
  /** Uploading music files chosen or dropped in the page. */
  upload: boolean;
  /** Taking songs out of the locker, on every device (`cloud_remove`). */
  removeFromLocker: boolean;
  /** Saving a song's file with the browser (`downloadTrack`). */
  download: boolean;
  /** Ending the page's session (`signOut`). */
  signOut: boolean;
  /** Lyrics read from the song's file (`track_lyrics`). */
  lyrics: boolean;
}

/** How far a batch of uploads has got. */
export interface UploadProgress {
  /** Files finished, uploaded or failed. */
  filesDone: number;
  filesTotal: number;
  /** Bytes the server has acknowledged, over every file of the batch. */
  bytesDone: number;
  bytesTotal: number;
}

/** What a batch of uploads did. */
export interface UploadReport {
  /** Files the server took. */
  uploaded: number;
  /** Files that failed, by name, with why. */
  failed: { name: string; message: string }[];
}

/**
 * The UI's way to the app. Implementations must reject failed calls with an `AppError` (so the
 * UI never classifies errors by matching strings), deliver events in the order they were sent,
 * and answer every command in `api.ts` with the shape the desktop app's command has.
 */
export interface Backend {
  /** What this backend can do. */
  readonly features: Features;
  /** Calls a command; a failure rejects with the app's typed error. */
  call<T>(command: string, args?: Record<string, unknown>): Promise<T>;
  /** Follows an event; returns the function that stops following it. */
  on<T>(event: string, handler: (payload: T) => void): () => void;
  /** Like `on`, but resolves once the listener is registered, so no event sent after it is missed. */
  listenNow<T>(event: string, handler: (payload: T) => void): Promise<() => void>;
  /** Tells the backend where the cover cache is (from app_info). */
  setCoverDir(dir: string): void;
  /** The URL of a cover thumbnail (96 or 512 px on its longer side), or null without one. */
  coverUrl(hash: string | null, size: 96 | 512): string | null;
  /** Asks the user for folders; resolves to none when the dialog is cancelled. */
  pickFolders(title: string): Promise<string[]>;
  /** Asks the user for files to open; resolves to none when the dialog is cancelled. */
  pickFiles(title: string, extensions: string[]): Promise<string[]>;
  /** Asks the user for one file to open. */
  pickFile(title: string, extensions: string[]): Promise<string | null>;
  /** Asks the user where to save a file. */
  pickSaveFile(title: string, defaultPath: string): Promise<string | null>;
  /** Saves a song's file where the browser saves downloads. */
  downloadTrack(track: Track): Promise<void>;
  /** Uploads music files to the library, reporting progress as it goes. */
  uploadFiles(files: File[], onProgress: (progress: UploadProgress) => void): Promise<UploadReport>;
  /** Ends the session and leaves for the sign-in page. */
  signOut(): Promise<void>;
}
