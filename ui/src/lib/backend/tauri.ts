// The desktop backend: Tauri IPC for commands and events, the asset protocol for covers, native
// dialogs for files. The web build resolves this module to `http.ts` instead (see vite.config.ts).

import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { open, save } from '@tauri-apps/plugin-dialog';
import type { AppError } from '../types';
import type { Backend, Features } from './types';

const features: Features = {
  folders: true,
  locker: true,
  imports: true,
  m3u: true,
  outputDevices: true,
  replayGain: true,
  offline: true,
  upload: false,
  removeFromLocker: true,
  download: false,
  signOut: false,
  lyrics: true,
};

async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw asAppError(e);
  }
}

/** Turns whatever a failed call threw into an AppError. */
function asAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'message' in e && 'kind' in e) return e as AppError;
  return { kind: 'internal', message: typeof e === 'string' ? e : String(e) };
}

async function listenNow<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return listen<T>(event, (e) => handler(e.payload));
}

function on<T>(event: string, handler: (payload: T) => void): () => void {
  let stop: (() => void) | null = null;
  let stopped = false;
  listen<T>(event, (e) => handler(e.payload)).then((unlisten) => {
    if (stopped) unlisten();
    else stop = unlisten;
  });
  return () => {
    stopped = true;
    stop?.();
  };
}

let coverDir = '';

function setCoverDir(dir: string): void {
  coverDir = dir.replace(/[\\/]+$/, '');
}

function coverUrl(hash: string | null, size: 96 | 512): string | null {
  if (!hash || !coverDir || !/^[0-9a-f]{8,}$/.test(hash)) return null;
  const sep = coverDir.includes('\\') ? '\\' : '/';
  return convertFileSrc(`${coverDir}${sep}${hash.slice(0, 2)}${sep}${hash}-${size}.jpg`);
}

async function pickFolders(title: string): Promise<string[]> {
  const chosen = await open({ directory: true, multiple: true, title });
  if (!chosen) return [];
  return Array.isArray(chosen) ? chosen : [chosen];
}

async function pickFiles(title: string, extensions: string[]): Promise<string[]> {
  const chosen = await open({ multiple: true, title, filters: [{ name: title, extensions }] });
  if (!chosen) return [];
  return Array.isArray(chosen) ? chosen : [chosen];
}

async function pickFile(title: string, extensions: string[]): Promise<string | null> {
  const chosen = await open({ multiple: false, title, filters: [{ name: title, extensions }] });
  return typeof chosen === 'string' ? chosen : null;
}

async function pickSaveFile(title: string, defaultPath: string): Promise<string | null> {
  return (await save({ title, defaultPath })) ?? null;
}

/**
 * A refusal for what only the web player does. The desktop's flags keep these actions out of
 * sight, so this answers a caller that did not read them.
 */
function elsewhere(message: string): Promise<never> {
  const error: AppError = { kind: 'invalid_input', message };
  return Promise.reject(error);
}

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
  downloadTrack: () => elsewhere('The desktop app keeps locker songs with “Download for Offline”.'),
  uploadFiles: () => elsewhere('The desktop app uploads your music from Settings → Locker.'),
  signOut: () => elsewhere('The desktop app signs out of the locker from Settings → Locker.'),
};
