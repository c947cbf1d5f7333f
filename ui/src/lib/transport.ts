// The desktop transport: Tauri IPC for commands and events, the asset protocol for covers, native
// dialogs for files. The browser build (the locker's web player) swaps this one module.

import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { open, save } from '@tauri-apps/plugin-dialog';
import type { AppError } from './types';

/** Calls a command; a failure rejects with the app's typed error. */
export async function call<T>(command: string, args: Record<string, unknown> = {}): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (e) {
    throw asAppError(e);
  }
}

/** Turns whatever a failed call threw into an AppError. */
export function asAppError(e: unknown): AppError {
  if (e && typeof e === 'object' && 'message' in e && 'kind' in e) return e as AppError;
  return { kind: 'internal', message: typeof e === 'string' ? e : String(e) };
}

/** Like `on`, but resolves once the listener is registered, so no event sent after it is missed. */
export async function listenNow<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return listen<T>(event, (e) => handler(e.payload));
}

/** Follows an event; returns the function that stops following it. */
export function on<T>(event: string, handler: (payload: T) => void): () => void {
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

/** Tells the transport where the cover cache is (from app_info). */
export function setCoverDir(dir: string): void {
  coverDir = dir.replace(/[\\/]+$/, '');
}

/** The URL of a cover thumbnail (96 or 512 px on its longer side). */
export function coverUrl(hash: string | null, size: 96 | 512): string | null {
  if (!hash || !coverDir || !/^[0-9a-f]{8,}$/.test(hash)) return null;
  const sep = coverDir.includes('\\') ? '\\' : '/';
  return convertFileSrc(`${coverDir}${sep}${hash.slice(0, 2)}${sep}${hash}-${size}.jpg`);
}

/** Asks the user for folders; resolves to none when the dialog is cancelled. */
export async function pickFolders(title: string): Promise<string[]> {
  const chosen = await open({ directory: true, multiple: true, title });
  if (!chosen) return [];
  return Array.isArray(chosen) ? chosen : [chosen];
}

/** Asks the user for files to open; resolves to none when the dialog is cancelled. */
export async function pickFiles(title: string, extensions: string[]): Promise<string[]> {
  const chosen = await open({ multiple: true, title, filters: [{ name: title, extensions }] });
  if (!chosen) return [];
  return Array.isArray(chosen) ? chosen : [chosen];
}

/** Asks the user for one file to open. */
export async function pickFile(title: string, extensions: string[]): Promise<string | null> {
  const chosen = await open({ multiple: false, title, filters: [{ name: title, extensions }] });
  return typeof chosen === 'string' ? chosen : null;
}

/** Asks the user where to save a file. */
export async function pickSaveFile(title: string, defaultPath: string): Promise<string | null> {
  return (await save({ title, defaultPath })) ?? null;
}
