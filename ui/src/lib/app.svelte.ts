// The UI's shared state: where the user is, what is playing, the playlists, and the messages
// shown to the user. Components read it and call `api`; events from the app keep it current.

import { SvelteMap } from 'svelte/reactivity';
import { api } from './api';
import { on, setCoverDir } from './backend';
import { viewScroller } from './place';
import { SearchOpener } from './search';
import type { AppError, AppInfo, NowPlaying, PlaybackError, Playlist, Track } from './types';

export type Route =
  | { view: 'songs' }
  | { view: 'albums' }
  | { view: 'artists' }
  | { view: 'genres' }
  | { view: 'recent' }
  | { view: 'album'; id: number }
  | { view: 'artist'; id: number }
  | { view: 'genre'; id: number; name: string }
  | { view: 'playlist'; id: number }
  | { view: 'search'; text: string }
  | { view: 'now-playing' }
  | { view: 'settings' };

export interface Notice {
  id: number;
  tone: 'error' | 'info';
  text: string;
}

const emptyNowPlaying: NowPlaying = {
  state: 'stopped',
  queue: [],
  current: null,
  position_ms: 0,
  shuffle: false,
  repeat: 'off',
  volume: 0.8,
  muted: false,
  buffering: false,
  device: null,
};

class AppStore {
  info = $state<AppInfo | null>(null);
  route = $state<Route>({ view: 'songs' });
  /**
   * The routes Back returns to, each with how far its view was scrolled. Replaced whole at each
   * change, so what reads it (the Back button shows while it is not empty) follows it.
   */
  history = $state.raw<{ route: Route; scroll: number }[]>([]);
  /** How far to scroll the view Back opened, until the shell takes it ([`takeReturn`]). */
  private returnTo: number | null = null;
  now = $state<NowPlaying>(emptyNowPlaying);
  position = $state(0);
  playlists = $state<Playlist[]>([]);
  notices = $state<Notice[]>([]);
  showQueue = $state(false);
  /** Bumped when the library changes on disk, so views reload. */
  libraryVersion = $state(0);
  /** Bumped when playlists change. */
  playlistVersion = $state(0);
  /** The track playing now, once fetched. */
  current = $state<Track | null>(null);
  /** Tracks of the queue, by id, fetched as the queue changes. */
  readonly queueTracks = new SvelteMap<number, Track>();
  private noticeId = 0;

  async start(): Promise<void> {
    on<NowPlaying>('player-state', (now) => this.setNow(now));
    on<number>('player-position', (ms) => (this.position = ms));
    on<PlaybackError>('player-error', (e) => this.error(e.message));
    on<null>('library-changed', () => {
      this.libraryVersion += 1;
      void this.refreshInfo();
    });
    on<null>('playlists-changed', () => void this.loadPlaylists());
    await this.refreshInfo();
    await this.loadPlaylists();
    this.setNow(await api.nowPlaying());
    this.position = this.now.position_ms;
  }

  async refreshInfo(): Promise<void> {
    try {
      const info = await api.appInfo();
      setCoverDir(info.cover_dir);
      this.info = info;
    } catch (e) {
      this.fail(e);
    }
  }

  async loadPlaylists(): Promise<void> {
    try {
      this.playlists = await api.playlists();
      this.playlistVersion += 1;
    } catch (e) {
      this.fail(e);
    }
  }

  private setNow(now: NowPlaying): void {
    const before = this.currentTrackId();
    this.now = now;
    const after = this.currentTrackId();
    if (before !== after || (after !== null && this.current?.id !== after)) void this.loadCurrent();
    void this.loadQueueTracks();
  }

  currentTrackId(): number | null {
    const { current, queue } = this.now;
    return current === null ? null : (queue[current]?.track ?? null);
  }

  private async loadCurrent(): Promise<void> {
    const id = this.currentTrackId();
    if (id === null) {
      this.current = null;
      return;
    }
    try {
      const [track] = await api.tracks([id]);
      if (this.currentTrackId() === id) this.current = track ?? null;
    } catch (e) {
      this.fail(e);
    }
  }

  private async loadQueueTracks(): Promise<void> {
    const ids = this.now.queue.map((r) => r.track).filter((t): t is number => t !== null);
    const wanted = ids.filter((id) => !this.queueTracks.has(id)).slice(0, 5000);
    if (!wanted.length) return;
    try {
      const tracks = await api.tracks(wanted);
      for (const t of tracks) this.queueTracks.set(t.id, t);
    } catch (e) {
      this.fail(e);
    }
  }

  go(route: Route): void {
    const scroller = typeof document === 'undefined' ? null : viewScroller(document);
    this.history = [...this.history.slice(-49), { route: this.route, scroll: scroller?.scrollTop ?? 0 }];
    this.route = route;
  }

  back(): void {
    const previous = this.history.at(-1);
    if (previous) {
      this.history = this.history.slice(0, -1);
      this.returnTo = previous.scroll;
      this.route = previous.route;
    }
  }

  /** How far Back asked the view it opened to be scrolled, once. */
  takeReturn(): number | null {
    const top = this.returnTo;
    this.returnTo = null;
    return top;
  }

  /** Shows an error where the user sees it, in the app's words. */
  fail(e: unknown): void {
    const err = e as Partial<AppError>;
    this.error(typeof err?.message === 'string' ? err.message : String(e));
  }

  error(text: string): void {
    this.push('error', text);
  }

  notify(text: string): void {
    this.push('info', text);
  }

  private push(tone: Notice['tone'], text: string): void {
    const id = ++this.noticeId;
    this.notices = [...this.notices.slice(-4), { id, tone, text }];
    setTimeout(() => this.dismiss(id), tone === 'error' ? 10_000 : 4_000);
  }

  dismiss(id: number): void {
    this.notices = this.notices.filter((n) => n.id !== id);
  }

  /** Runs an action, showing its failure instead of losing it. */
  async attempt<T>(action: () => Promise<T>): Promise<T | undefined> {
    try {
      return await action();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
  }
}

export const app = new AppStore();

/** Opens the search view from another view with its first answer (see SearchOpener). */
export const searchOpener = new SearchOpener(
  (query, limit) => api.search(query, limit),
  (text) => app.go({ view: 'search', text }),
);
