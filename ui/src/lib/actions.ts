// What can be done with a set of tracks, shared by every list's context menu and by drag and drop.

import { api } from './api';
import { app } from './app.svelte';
import { downloadTrack, features } from './backend';
import type { MenuItem } from './menu.svelte';
import type { Track } from './types';

/** The most songs one "Download" saves: each is a download of its own, which browsers may ask
 * the user about. */
const DOWNLOAD_MAX = 50;

/** The MIME type of dragged track ids. */
export const TRACKS_MIME = 'application/x-skylark-tracks';

/** Puts track ids on a drag. */
export function dragTracks(e: DragEvent, ids: number[]): void {
  if (!e.dataTransfer) return;
  e.dataTransfer.setData(TRACKS_MIME, JSON.stringify(ids));
  e.dataTransfer.setData('text/plain', `${ids.length} track${ids.length === 1 ? '' : 's'}`);
  e.dataTransfer.effectAllowed = 'copyMove';
}

/** The track ids a drop carries, if it carries any. */
export function droppedTracks(e: DragEvent): number[] | null {
  const raw = e.dataTransfer?.getData(TRACKS_MIME);
  if (!raw) return null;
  try {
    const ids: unknown = JSON.parse(raw);
    return Array.isArray(ids) && ids.every((i) => Number.isInteger(i)) ? (ids as number[]) : null;
  } catch {
    return null;
  }
}

export async function addToPlaylist(playlist: number, ids: number[]): Promise<void> {
  const name = app.playlists.find((p) => p.id === playlist)?.name ?? 'the playlist';
  const done = await app.attempt(() => api.addToPlaylist(playlist, ids));
  if (done !== undefined) app.notify(`Added ${ids.length === 1 ? '1 song' : `${ids.length} songs`} to ${name}`);
}

export async function newPlaylistWith(ids: number[]): Promise<void> {
  const name = window.prompt('Name of the new playlist', 'New Playlist');
  if (!name?.trim()) return;
  const id = await app.attempt(() => api.createPlaylist(name.trim(), ids));
  if (id !== undefined) app.go({ view: 'playlist', id });
}

/** The context menu for these tracks (the first one decides "go to album/artist"). */
export function trackMenu(ids: number[], first: Track | undefined, extra: MenuItem[] = []): MenuItem[] {
  const items: MenuItem[] = [
    { label: 'Play', action: () => void app.attempt(() => api.playTracks(ids, 0)) },
    { label: 'Play Next', action: () => void app.attempt(() => api.playNext(ids)) },
    { label: 'Add to Queue', action: () => void app.attempt(() => api.enqueue(ids)) },
    { label: '', separator: true },
    {
      label: 'Add to Playlist',
      items: [
        { label: 'New Playlist…', action: () => void newPlaylistWith(ids) },
        ...(app.playlists.length ? [{ label: '', separator: true }] : []),
        ...app.playlists.map((p) => ({ label: p.name, action: () => void addToPlaylist(p.id, ids) })),
      ],
    },
  ];
  if (first) {
    items.push(
      { label: '', separator: true },
      { label: 'Go to Album', action: () => app.go({ view: 'album', id: first.album_id }) },
    );
    items.push({
      label: 'Rating',
      items: [0, 1, 2, 3, 4, 5].map((n) => ({
        label: n === 0 ? 'None' : '★'.repeat(n),
        action: () =>
          void app.attempt(async () => {
            for (const id of ids) await api.setRating(id, n === 0 ? null : n * 20);
            app.libraryVersion += 1;
          }),
      })),
    });
  }
  if (features.offline && first?.availability === 'locker') {
    items.push({ label: 'Download for Offline', action: () => void downloadForOffline(ids) });
  }
  if (features.removeFromLocker && first && first.availability !== 'local' && first.availability !== 'missing') {
    items.push({
      label: ids.length === 1 ? 'Remove from Locker…' : `Remove ${ids.length} Songs from Locker…`,
      action: () => void removeFromLocker(ids, first),
    });
  }
  if (features.download && first) {
    items.push({
      label: ids.length === 1 ? 'Download' : `Download ${ids.length} Songs`,
      disabled: ids.length > DOWNLOAD_MAX,
      action: () => void downloadFiles(ids, first),
    });
  }
  if (extra.length) items.push({ label: '', separator: true }, ...extra);
  return items;
}

/** Keeps these tracks on this computer, to play with no network: pins and downloads them. */
export async function downloadForOffline(ids: number[]): Promise<void> {
  app.notify(`Downloading ${ids.length === 1 ? '1 song' : `${ids.length} songs`} for offline…`);
  const done = await app.attempt(() => api.cloudDownload(ids.map((id) => ({ kind: 'track' as const, id }))));
  if (done !== undefined) {
    app.notify(`${done === 1 ? '1 song' : `${done} songs`} downloaded: they play with no network.`);
    app.libraryVersion += 1;
  }
}

/** Takes these tracks out of the locker, on every device, once the user confirms: songs with a
 * file on this computer stay, as local songs; the others leave the library. */
export async function removeFromLocker(ids: number[], first: Track): Promise<void> {
  const what = ids.length === 1 ? `“${first.title}”` : `these ${ids.length} songs`;
  if (
    !window.confirm(
      `Remove ${what} from your locker? Your other devices will no longer have ${ids.length === 1 ? 'it' : 'them'} unless ${ids.length === 1 ? 'it is' : 'they are'} on their disks. Files on this computer are kept.`,
    )
  )
    return;
  const removed = await app.attempt(() => api.cloudRemove(ids));
  if (removed !== undefined) {
    app.notify(`${removed === 1 ? '1 song' : `${removed} songs`} removed from your locker.`);
    app.libraryVersion += 1;
  }
}

/** Saves these tracks' files where the browser saves downloads (`first` is the first of them). */
export async function downloadFiles(ids: number[], first: Track): Promise<void> {
  const tracks = ids.length === 1 && ids[0] === first.id ? [first] : await app.attempt(() => api.tracks(ids));
  for (const track of tracks ?? []) await app.attempt(() => downloadTrack(track));
}
