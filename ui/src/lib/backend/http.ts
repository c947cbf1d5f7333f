// The web player's backend: the locker's HTTP API, same-origin, authenticated by the session
// cookie that the server's own sign-in page set. Library commands go to
// `POST /api/v1/ui/{command}` with the desktop command's arguments and answer with its result;
// player commands stay in the page (player.ts); events travel on an in-page bus (events.ts).
// The desktop build never includes this module (see vite.config.ts).

import { Upload, type DetailedError } from 'tus-js-client';
import type { AppError, Track } from '../types';
import { emit, listenNow, on } from './events';
import { BrowserPlayer, type PlayerHost } from './player';
import type { Backend, Features, UploadProgress, UploadReport } from './types';
import { CSRF_COOKIE, CSRF_HEADER, cookieValue, errorFrom } from './wire';

const features: Features = {
  folders: false,
  locker: false,
  imports: false,
  m3u: false,
  outputDevices: false,
  replayGain: false,
  offline: false,
  upload: true,
  removeFromLocker: true,
  download: true,
  signOut: true,
  lyrics: true,
};

/** The server's sign-in page, where a page whose session ended goes. */
const SIGN_IN = '/login';
/** Commands that change the playlists. The desktop app sends `playlists-changed` after them
 * itself; here the page does, once the server has answered. */
const playlistCommands = new Set([
  'create_playlist',
  'rename_playlist',
  'delete_playlist',
  'add_to_playlist',
  'remove_from_playlist',
  'move_playlist_item',
]);
/** The size of each upload request's body. */
const CHUNK_SIZE = 8 * 1024 * 1024;
/** Waits before each retry of a failed upload request; after the last, the file fails. */
const RETRY_DELAYS = [0, 1_000, 3_000, 5_000];
/** Files uploading at once: a second keeps the connection busy while the first one finishes,
 * and the music playing meanwhile still has bandwidth. */
const PARALLEL_UPLOADS = 2;
/** How long the page must have been hidden before coming back reloads the library and the
 * playlists, which another device may have changed meanwhile. */
const STALE_AFTER_MS = 60_000;

/** The CSRF token the server set, for every request but GET. */
function csrf(): string {
  return cookieValue(document.cookie, CSRF_COOKIE) ?? '';
}

/** The page's session has ended: leave for the sign-in page, and say so to the caller. */
function signedOut(): AppError {
  location.assign(SIGN_IN);
  return { kind: 'io', message: 'You are signed out; opening the sign-in page.' };
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Sends one command to the server. */
async function request<T>(command: string, args: Record<string, unknown>): Promise<T> {
  let response: Response;
  let text: string;
  try {
    response = await fetch(`/api/v1/ui/${encodeURIComponent(command)}`, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', [CSRF_HEADER]: csrf() },
      body: JSON.stringify(args),
    });
    text = await response.text();
  } catch (e) {
    const error: AppError = { kind: 'io', message: `Cannot reach your locker: ${messageOf(e)}` };
    throw error;
  }
  if (response.status === 401) throw signedOut();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    if (response.ok) {
      const error: AppError = { kind: 'internal', message: `The locker's answer to ${command} is not JSON.` };
      throw error;
    }
  }
  if (!response.ok) throw errorFrom(response.status, body);
  return body as T;
}

/** Local storage that never throws: a browser that refuses it (private modes, a full quota)
 * only forgets the player's settings when the page closes. */
function storage(): PlayerHost['storage'] {
  let local: Storage;
  try {
    local = window.localStorage;
  } catch {
    return null;
  }
  return {
    getItem(key) {
      try {
        return local.getItem(key);
      } catch {
        return null;
      }
    },
    setItem(key, value) {
      try {
        local.setItem(key, value);
      } catch {
        // See above: kept only for this page's life.
      }
    },
  };
}

function streamUrl(track: Track): string {
  return `/api/v1/tracks/${encodeURIComponent(track.uid)}/stream`;
}

/** The song decoded to WAV by the locker (`crates/locker-server/src/transcode.rs`). */
function convertedUrl(track: Track): string {
  return `/api/v1/tracks/${encodeURIComponent(track.uid)}/wav`;
}

let player: BrowserPlayer | null = null;

/** The player, made on first use (the first `now_playing`, as the app starts). */
function thePlayer(): BrowserPlayer {
  if (!player) {
    const audio = new Audio();
    audio.preload = 'auto';
    player = new BrowserPlayer(audio, {
      tracks: (ids) => request<Track[]>('tracks', { ids }),
      recordPlay: (id, at) => request<void>('record_play', { id, at }),
      emit,
      streamUrl,
      convertedUrl,
      coverUrl,
      now: () => Date.now(),
      storage: storage(),
      session: 'mediaSession' in navigator ? navigator.mediaSession : null,
    });
  }
  return player;
}

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  const playing = thePlayer();
  if (playing.handles(command)) return (await playing.run(command, args)) as T;
  const result = await request<T>(command, args);
  if (playlistCommands.has(command)) emit('playlists-changed', null);
  return result;
}

/** Covers come from the locker by hash: there is no cover folder to know. */
function setCoverDir(): void {}

function coverUrl(hash: string | null, size: 96 | 512): string | null {
  if (!hash || !/^[0-9a-f]{8,}$/.test(hash)) return null;
  return `/api/v1/covers/${hash}?size=${size}`;
}

async function downloadTrack(track: Track): Promise<void> {
  const link = document.createElement('a');
  link.href = `/api/v1/tracks/${encodeURIComponent(track.uid)}/download`;
  // Empty: the server's Content-Disposition names the file.
  link.download = '';
  link.click();
}

async function signOut(): Promise<void> {
  try {
    await fetch('/logout', { method: 'POST', credentials: 'same-origin', headers: { [CSRF_HEADER]: csrf() } });
  } catch (e) {
    const error: AppError = { kind: 'io', message: `Cannot reach your locker to sign out: ${messageOf(e)}` };
    throw error;
  }
  // Whatever the answer (a session already ended answers 401), the sign-in page is next.
  location.assign(SIGN_IN);
}

/** Uploads one file over tus, resuming an upload of the same file that an earlier visit left
 * unfinished; `onSent` hears the bytes sent so far. */
function uploadOne(file: File, onSent: (bytes: number) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(file, {
      // Absolute: tus-js-client resolves the server's Location header against it.
      endpoint: new URL('/api/v1/uploads', location.origin).href,
      chunkSize: CHUNK_SIZE,
      retryDelays: RETRY_DELAYS,
      metadata: { filename: file.name, filetype: file.type || 'application/octet-stream' },
      // A finished upload has nothing to resume, so its entry leaves local storage instead of
      // piling up there with every file ever uploaded.
      removeFingerprintOnSuccess: true,
      onBeforeRequest: (req) => req.setHeader(CSRF_HEADER, csrf()),
      onProgress: (sent) => onSent(sent),
      onSuccess: () => resolve(),
      onError: (e) => reject(uploadError(e)),
    });
    upload.findPreviousUploads().then(
      (previous) => {
        const [last] = previous;
        if (last) upload.resumeFromPreviousUpload(last);
        upload.start();
      },
      (e: unknown) => reject(uploadError(e instanceof Error ? e : new Error(String(e)))),
    );
  });
}

/** The AppError for a failed upload: the server's own error when it answered, else a network
 * failure. */
function uploadError(e: Error | DetailedError): AppError {
  const response = 'originalResponse' in e ? e.originalResponse : null;
  if (!response) return { kind: 'io', message: `The upload was cut off: ${e.message}` };
  const status = response.getStatus();
  if (status === 401) return signedOut();
  let body: unknown = null;
  try {
    body = JSON.parse(response.getBody());
  } catch {
    // Not the API's JSON (a proxy's page, say): the status speaks for it.
  }
  return errorFrom(status, body);
}

async function uploadFiles(files: File[], onProgress: (progress: UploadProgress) => void): Promise<UploadReport> {
  const sent = files.map(() => 0);
  const report: UploadReport = { uploaded: 0, failed: [] };
  let filesDone = 0;
  const bytesTotal = files.reduce((total, f) => total + f.size, 0);
  const tell = () =>
    onProgress({
      filesDone,
      filesTotal: files.length,
      bytesDone: sent.reduce((total, n) => total + n, 0),
      bytesTotal,
    });
  let next = 0;
  async function worker(): Promise<void> {
    while (next < files.length) {
      const index = next++;
      const file = files[index]!;
      try {
        await uploadOne(file, (bytes) => {
          sent[index] = bytes;
          tell();
        });
        sent[index] = file.size;
        report.uploaded += 1;
      } catch (e) {
        report.failed.push({ name: file.name, message: (e as Partial<AppError>).message ?? String(e) });
      }
      filesDone += 1;
      tell();
    }
  }
  tell();
  await Promise.all(Array.from({ length: Math.min(PARALLEL_UPLOADS, files.length) }, worker));
  if (report.uploaded) emit('library-changed', null);
  return report;
}

async function pickFolders(): Promise<string[]> {
  return [];
}

async function pickFiles(): Promise<string[]> {
  return [];
}

async function pickFile(): Promise<string | null> {
  return null;
}

async function pickSaveFile(): Promise<string | null> {
  return null;
}

// Coming back to the page after a while: the library and playlists may have changed on another
// device, so the views reload them (the only thing the page ever refreshes by itself).
let hiddenAt: number | null = null;
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'hidden') {
    hiddenAt = Date.now();
    return;
  }
  if (hiddenAt !== null && Date.now() - hiddenAt >= STALE_AFTER_MS) {
    emit('library-changed', null);
    emit('playlists-changed', null);
  }
  hiddenAt = null;
});

export const backend: Backend = {
  features,
  call,
  on,
  listenNow,
  setCoverDir,
  coverUrl,
  pickFolders,
  pickFiles,
  pickFile,
  pickSaveFile,
  downloadTrack,
  uploadFiles,
  signOut,
};
