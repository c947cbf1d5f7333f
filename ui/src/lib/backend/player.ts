// The web player's playback: the player commands of api.ts carried out with one <audio> element.
// The queue lives in the page (queue.ts, the desktop engine's rules); events go out as the
// desktop app sends them (`player-state` on every change, `player-position` while playing,
// `player-error` for a song that cannot play, which is then skipped); a song counts as played by
// the desktop's rule and the play is reported to the locker.
//
// Everything outside the page comes through `PlayerHost` and the audio element, so tests drive
// the adapter with stand-ins for both.

import type {
  AppError,
  GainMode,
  NowPlaying,
  PlaybackError,
  RepeatMode,
  ReplayGainSetting,
  Settings,
  Track,
} from '../types';
import { Queue } from './queue';

/** Previous in a song's first seconds goes to the song before; later, it restarts the song
 * (the engine's RESTART_THRESHOLD, crates/player/src/engine.rs). */
const RESTART_THRESHOLD_MS = 3_000;
/** How often the position is sent while playing. */
const POSITION_INTERVAL_MS = 250;
/** How often the position is saved while playing, for a reload to come back to. */
const SAVE_INTERVAL_MS = 5_000;
/** The most queue entries saved: a longer queue is saved as this many around the current one. */
const SAVED_QUEUE_MAX = 5_000;
/** The most songs whose details are kept for playing; past it the cache starts again. */
const TRACK_CACHE_MAX = 500;
/** `HTMLMediaElement.HAVE_CURRENT_DATA`: the element has data at the playback position. */
const HAVE_CURRENT_DATA = 2;
/** `MediaError.MEDIA_ERR_DECODE` and `MEDIA_ERR_SRC_NOT_SUPPORTED`. */
const MEDIA_ERR_DECODE = 3;
const MEDIA_ERR_SRC_NOT_SUPPORTED = 4;
/** What `NowPlaying.device` says: the browser plays through whatever output the system chose. */
const DEVICE = 'This browser';

const SETTINGS_KEY = 'skylark.player.settings';
const QUEUE_KEY = 'skylark.player.queue';

/** Whether a listen counts as a play: half the song, or four minutes, as scrobblers count (the
 * desktop's `counts_as_play`, src-tauri/src/playback.rs). */
export function countsAsPlay(positionMs: number, durationMs: number): boolean {
  return positionMs >= 240_000 || (durationMs > 0 && positionMs * 2 >= durationMs);
}

/** The element volume for a volume setting in 0..1: the desktop's cubic curve (`volume_gain`,
 * crates/player/src/output.rs), so a slider position sounds the same in both. */
export function volumeGain(volume: number): number {
  const v = Number.isNaN(volume) ? 0 : Math.min(1, Math.max(0, volume));
  return v * v * v;
}

/** MIME types, with codecs, of the catalog's codecs whose support a browser can tell before it
 * fetches a byte. WAV and AIFF share the catalog's `pcm`: whether a browser plays those is found
 * by trying. */
const codecTypes: Readonly<Record<string, string>> = {
  mp3: 'audio/mpeg',
  aac: 'audio/mp4; codecs="mp4a.40.2"',
  alac: 'audio/mp4; codecs="alac"',
  flac: 'audio/flac',
  vorbis: 'audio/ogg; codecs="vorbis"',
  opus: 'audio/ogg; codecs="opus"',
};

/** Whether a browser whose `canPlayType` answers so is known not to play `track`'s codec
 * (Chromium and Firefox and Apple Lossless, Safari and Vorbis). */
export function cannotPlay(track: Pick<Track, 'codec'>, canPlayType: (type: string) => string): boolean {
  const type = codecTypes[track.codec.toLowerCase()];
  return type !== undefined && canPlayType(type) === '';
}

/** The part of an `HTMLAudioElement` the player uses. */
export interface AudioOut extends EventTarget {
  src: string;
  currentTime: number;
  volume: number;
  muted: boolean;
  readonly paused: boolean;
  readonly ended: boolean;
  readonly readyState: number;
  readonly error: { readonly code: number } | null;
  play(): Promise<void>;
  pause(): void;
  canPlayType(type: string): string;
}

/** What the player needs from the rest of the page. */
export interface PlayerHost {
  /** The songs with these ids (the `tracks` command). */
  tracks(ids: number[]): Promise<Track[]>;
  /** Tells the library a song was played at `at` (unix ms). */
  recordPlay(track: number, at: number): Promise<void>;
  /** Sends an event to the UI. */
  emit(event: string, payload: unknown): void;
  /** Where a song's audio streams from. */
  streamUrl(track: Track): string;
  /** Where a song's audio streams from decoded to WAV, which every browser plays, for songs in a
   * format the browser does not play (`null` where there is no such thing). */
  convertedUrl(track: Track): string | null;
  /** A cover's URL, for the system's media controls. */
  coverUrl(hash: string | null, size: 512): string | null;
  /** The time now, in unix ms. */
  now(): number;
  /** Where settings and the queue are remembered between visits, if anywhere. */
  storage: Pick<Storage, 'getItem' | 'setItem'> | null;
  /** The system's media controls, where the browser has them. */
  session: MediaSession | null;
}

type State = NowPlaying['state'];

/** The settings the web player keeps. */
interface Kept {
  volume: number;
  muted: boolean;
  shuffle: boolean;
  repeat: RepeatMode;
  replay_gain: ReplayGainSetting;
}

const defaults: Kept = {
  volume: 0.8,
  muted: false,
  shuffle: false,
  repeat: 'off',
  replay_gain: { mode: 'track', preamp_db: 0, prevent_clipping: true },
};

const repeatModes: readonly RepeatMode[] = ['off', 'one', 'all'];
const gainModes: readonly GainMode[] = ['off', 'track', 'album'];

/** The commands this adapter answers; every other command goes to the server. */
const commands = new Set([
  'now_playing',
  'play_tracks',
  'play_next',
  'enqueue',
  'queue_remove',
  'queue_move',
  'queue_clear',
  'queue_jump',
  'toggle_play',
  'stop',
  'next',
  'previous',
  'seek',
  'set_volume',
  'set_muted',
  'set_shuffle',
  'set_repeat',
  'get_settings',
  'set_replay_gain',
  'output_devices',
  'set_output_device',
]);

/** The commands by which the listener starts a song. */
const listenerStarts = new Set(['play_tracks', 'queue_jump', 'toggle_play', 'next', 'previous']);

/** Plays the queue through one audio element; see the module comment. */
export class BrowserPlayer {
  private readonly queue: Queue;
  private readonly kept: Kept;
  private state: State = 'stopped';
  /** Where playing starts from when stopped (a seek while stopped, a restored queue). */
  private cued = 0;
  private buffering = false;
  /** The queue item and song the audio element holds, and whether it holds it as WAV. */
  private loaded: { item: number; track: Track; converted: boolean } | null = null;
  /** Whether the loaded song has started playing (only then can leaving it count as a play). */
  private started = false;
  /** Songs that failed in a row: once every item of the queue has, playing stops. */
  private failures = 0;
  /** Bumped by every start and stop, so a start still fetching its song knows it is stale. */
  private generation = 0;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private savedAt = 0;
  private readonly trackCache = new Map<number, Track>();

  constructor(
    private readonly audio: AudioOut,
    private readonly host: PlayerHost,
    random: () => number = Math.random,
  ) {
    this.queue = new Queue(random);
    this.kept = readSettings(host.storage);
    this.queue.setShuffle(this.kept.shuffle);
    this.queue.setRepeat(this.kept.repeat);
    const saved = readQueue(host.storage);
    if (saved) {
      this.queue.restore(saved.tracks, saved.current);
      this.cued = saved.position_ms;
    }
    this.applyVolume();
    audio.addEventListener('playing', () => this.onPlaying());
    audio.addEventListener('canplay', () => (this.failures = 0));
    audio.addEventListener('waiting', () => this.setBuffering(this.state === 'playing'));
    audio.addEventListener('ended', () => void this.onEnded());
    audio.addEventListener('error', () => this.onError());
    audio.addEventListener('pause', () => this.onPause());
    audio.addEventListener('play', () => this.onPlay());
    this.bindSession();
  }

  /** Whether `command` is one this adapter answers. */
  handles(command: string): boolean {
    return commands.has(command);
  }

  /** Carries out a player command; resolves once the audio element has what it asked for. */
  async run(command: string, args: Record<string, unknown> = {}): Promise<unknown> {
    // Songs that failed before the listener chose what to play do not count against the choice.
    if (listenerStarts.has(command)) this.failures = 0;
    switch (command) {
      case 'now_playing':
        return this.snapshot();
      case 'play_tracks':
        return this.load(ids(args, 'tracks'), whole(args, 'start'));
      case 'play_next':
        this.queue.insertNext(ids(args, 'tracks'));
        return this.changed();
      case 'enqueue':
        this.queue.append(ids(args, 'tracks'));
        return this.changed();
      case 'queue_remove':
        return this.remove(ids(args, 'items'));
      case 'queue_move':
        if (this.queue.move(whole(args, 'item'), whole(args, 'to'))) this.changed();
        return;
      case 'queue_clear':
        this.queue.clearUpcoming();
        return this.changed();
      case 'queue_jump':
        return this.jump(whole(args, 'item'));
      case 'toggle_play':
        return this.toggle();
      case 'stop':
        return this.stop();
      case 'next':
        return this.next();
      case 'previous':
        return this.previous();
      case 'seek':
        return this.seek(whole(args, 'positionMs'));
      case 'set_volume':
        this.kept.volume = Math.min(1, Math.max(0, finite(args, 'volume')));
        return this.settingChanged();
      case 'set_muted':
        this.kept.muted = flag(args, 'muted');
        return this.settingChanged();
      case 'set_shuffle':
        this.kept.shuffle = flag(args, 'shuffle');
        this.queue.setShuffle(this.kept.shuffle);
        return this.settingChanged();
      case 'set_repeat':
        this.kept.repeat = repeatMode(args.mode);
        this.queue.setRepeat(this.kept.repeat);
        return this.settingChanged();
      case 'get_settings':
        return this.settings();
      case 'set_replay_gain':
        // The browser plays the stream as the locker sends it, so the setting is only remembered
        // (the web build's Settings does not offer it).
        this.kept.replay_gain = gainSetting(args.setting);
        return this.settingChanged();
      case 'output_devices':
        return [];
      case 'set_output_device':
        return;
      default:
        throw invalid(`the web player has no command ${command}`);
    }
  }

  private snapshot(): NowPlaying {
    return {
      state: this.state,
      queue: this.queue.rows(),
      current: this.queue.currentIndex,
      position_ms: this.position(),
      shuffle: this.queue.shuffle,
      repeat: this.queue.repeat,
      volume: this.kept.volume,
      muted: this.kept.muted,
      buffering: this.buffering,
      device: DEVICE,
    };
  }

  private settings(): Settings {
    return {
      volume: this.kept.volume,
      muted: this.kept.muted,
      shuffle: this.kept.shuffle,
      repeat: this.kept.repeat,
      replay_gain: { ...this.kept.replay_gain },
      output_device: null,
      wizard_done: true,
    };
  }

  /** The position in the current song, in ms. */
  private position(): number {
    if (this.state === 'stopped') return this.cued;
    return this.loaded ? Math.round(this.audio.currentTime * 1000) : 0;
  }

  /** Tells the UI what changed and remembers the queue. */
  private changed(): void {
    this.host.emit('player-state', this.snapshot());
    this.saveQueue();
  }

  private settingChanged(): void {
    this.applyVolume();
    this.host.storage?.setItem(SETTINGS_KEY, JSON.stringify(this.kept));
    this.changed();
  }

  private applyVolume(): void {
    this.audio.volume = volumeGain(this.kept.volume);
    this.audio.muted = this.kept.muted;
  }

  private async load(tracks: number[], start: number): Promise<void> {
    this.endCurrent();
    this.queue.load(tracks, start);
    this.cued = 0;
    if (this.queue.currentItem() === null) {
      this.halt();
      this.changed();
      return;
    }
    const starting = this.startCurrent(0, 'playing');
    this.changed();
    await starting;
  }

  private async remove(items: number[]): Promise<void> {
    if (this.queue.remove(items)) {
      this.cued = 0;
      if (this.state !== 'stopped') {
        this.endCurrent();
        const state = this.state;
        if (this.queue.currentItem() !== null || (this.queue.repeat !== 'off' && this.queue.restart())) {
          const starting = this.startCurrent(0, state);
          this.changed();
          await starting;
          return;
        }
        this.halt();
      }
    }
    this.changed();
  }

  private async jump(item: number): Promise<void> {
    if (!this.queue.setCurrent(item)) return;
    this.endCurrent();
    this.cued = 0;
    const starting = this.startCurrent(0, 'playing');
    this.changed();
    await starting;
  }

  private async toggle(): Promise<void> {
    if (this.state === 'playing') {
      this.setState('paused');
      this.audio.pause();
      this.changed();
    } else if (this.state === 'paused' && this.loaded?.item === this.queue.currentItem()) {
      this.setState('playing');
      this.playAudio();
      this.changed();
    } else {
      if (this.queue.currentItem() === null && !this.queue.restart()) return;
      const from = this.state === 'paused' ? this.position() : this.cued;
      this.cued = 0;
      const starting = this.startCurrent(from, 'playing');
      this.changed();
      await starting;
    }
  }

  private stop(): void {
    this.endCurrent();
    this.halt();
    this.changed();
  }

  private async next(): Promise<void> {
    this.cued = 0;
    if (this.queue.currentItem() === null) {
      if (this.queue.restart()) this.changed();
      return;
    }
    if (this.state === 'stopped') {
      this.queue.advance(true);
      this.changed();
      return;
    }
    this.endCurrent();
    const state = this.state;
    if (!this.queue.advance(true)) {
      this.halt();
      this.changed();
      return;
    }
    const starting = this.startCurrent(0, state);
    this.changed();
    await starting;
  }

  private async previous(): Promise<void> {
    this.cued = 0;
    if (this.state === 'stopped') {
      if (this.queue.goBack()) this.changed();
      return;
    }
    const pastThreshold = this.started && this.position() > RESTART_THRESHOLD_MS;
    if (pastThreshold || !this.queue.goBack()) {
      this.seek(0);
      return;
    }
    this.endCurrent();
    const starting = this.startCurrent(0, this.state);
    this.changed();
    await starting;
  }

  private seek(positionMs: number): void {
    if (this.state === 'stopped') {
      if (this.queue.currentItem() !== null) {
        this.cued = positionMs;
        this.host.emit('player-position', positionMs);
      }
      return;
    }
    this.audio.currentTime = positionMs / 1000;
    this.host.emit('player-position', positionMs);
  }

  /** Starts the current item at `offset` ms in `state`; settles once the audio element has it. */
  private startCurrent(offset: number, state: 'playing' | 'paused'): Promise<void> {
    const item = this.queue.currentItem();
    const id = this.queue.currentTrack();
    if (item === null || id === null) {
      this.halt();
      return Promise.resolve();
    }
    const generation = ++this.generation;
    this.started = false;
    this.setState(state);
    this.host.emit('player-position', offset);
    return this.attach(generation, item, id, offset, state);
  }

  private async attach(generation: number, item: number, id: number, offset: number, state: State): Promise<void> {
    let track: Track | undefined;
    try {
      track = await this.track(id);
    } catch (e) {
      if (generation === this.generation) this.failed(id, `Cannot play this song: ${messageOf(e)}`);
      return;
    }
    if (generation !== this.generation) return;
    if (!track) {
      this.failed(id, 'This song is no longer in your library.');
      return;
    }
    if (this.loaded?.item !== item) {
      const converted = cannotPlay(track, (type) => this.audio.canPlayType(type)) ? this.host.convertedUrl(track) : null;
      this.audio.src = converted ?? this.host.streamUrl(track);
      this.loaded = { item, track, converted: converted !== null };
    }
    this.audio.currentTime = offset / 1000;
    if (state === 'playing') this.playAudio();
    else this.audio.pause();
    this.showTrack(track);
  }

  private playAudio(): void {
    this.audio.play().catch((e: unknown) => {
      // Browsers refuse to start audio before the page has had a gesture (a reload that
      // restored a playing queue, say): show it paused, so the next press of Play starts it.
      // Other refusals (a newer source or a pause cutting this start short) need nothing, and
      // a source that cannot play says so with an `error` event.
      if ((e as { name?: unknown } | null)?.name === 'NotAllowedError' && this.state === 'playing') {
        this.setState('paused');
        this.changed();
      }
    });
  }

  /** Stops playing; the queue and its current item stay, and playing again starts them over. */
  private halt(): void {
    this.generation += 1;
    this.cued = 0;
    this.setState('stopped');
    this.audio.pause();
    this.host.emit('player-position', 0);
    this.setBuffering(false);
    if (this.queue.currentItem() === null && this.host.session) this.host.session.metadata = null;
  }

  /** The loaded song is being left: count it as played if it played long enough. */
  private endCurrent(): void {
    const loaded = this.loaded;
    if (!loaded || !this.started) return;
    this.started = false;
    const { track } = loaded;
    if (!countsAsPlay(this.audio.currentTime * 1000, track.duration_ms)) return;
    this.host.recordPlay(track.id, this.host.now()).catch((e: unknown) => {
      // A lost play count is no reason to interrupt the music; the console keeps the trace.
      console.warn(`could not record a play of track ${track.id}: ${messageOf(e)}`);
    });
  }

  /** Says why the current song cannot play, and moves on past it. */
  private failed(track: number | null, message: string): void {
    const error: PlaybackError = { track, message };
    this.host.emit('player-error', error);
    this.loaded = null;
    this.started = false;
    this.failures += 1;
    const state = this.state === 'paused' ? 'paused' : 'playing';
    if (this.failures >= this.queue.length || !this.queue.advance(true)) {
      // Nothing left to try (or every song failed in a row): stop rather than cycle.
      this.halt();
      this.changed();
      return;
    }
    void this.startCurrent(0, state);
    this.changed();
  }

  private setState(state: State): void {
    this.state = state;
    if (state === 'playing') this.startTicker();
    else this.stopTicker();
    if (this.host.session) this.host.session.playbackState = state === 'stopped' ? 'none' : state;
  }

  private setBuffering(buffering: boolean): void {
    if (this.buffering === buffering) return;
    this.buffering = buffering;
    this.changed();
  }

  private startTicker(): void {
    this.ticker ??= setInterval(() => this.tick(), POSITION_INTERVAL_MS);
  }

  private stopTicker(): void {
    if (this.ticker !== null) clearInterval(this.ticker);
    this.ticker = null;
  }

  private tick(): void {
    if (!this.loaded) return;
    const position = this.position();
    this.host.emit('player-position', position);
    this.showPosition(position);
    if (this.host.now() - this.savedAt >= SAVE_INTERVAL_MS) this.saveQueue();
  }

  private onPlaying(): void {
    this.started = true;
    this.failures = 0;
    this.setBuffering(false);
  }

  private async onEnded(): Promise<void> {
    if (!this.loaded || this.state !== 'playing') return;
    this.endCurrent();
    if (!this.queue.advance(false)) {
      this.halt();
      this.changed();
      return;
    }
    const starting = this.startCurrent(0, 'playing');
    this.changed();
    await starting;
  }

  private onError(): void {
    const loaded = this.loaded;
    if (!loaded) return;
    const code = this.audio.error?.code;
    const converted = loaded.converted ? null : this.host.convertedUrl(loaded.track);
    if (converted !== null && (code === MEDIA_ERR_DECODE || code === MEDIA_ERR_SRC_NOT_SUPPORTED)) {
      // A format this browser does not play (AIFF, say, which `canPlayType` cannot be asked
      // about beforehand): the same song decoded to WAV, from where it was.
      const at = this.audio.currentTime;
      loaded.converted = true;
      this.audio.src = converted;
      this.audio.currentTime = at;
      if (this.state === 'playing') this.playAudio();
      return;
    }
    this.endCurrent();
    this.failed(loaded.track.id, `Cannot play “${loaded.track.title}”: ${mediaErrorText(this.audio.error?.code)}.`);
  }

  /** Something outside the page paused the audio (the browser's own controls, a headset
   * unplugged): follow it. A pause while a new source loads is the element's, not the user's. */
  private onPause(): void {
    if (this.state === 'playing' && this.audio.paused && !this.audio.ended && this.audio.readyState >= HAVE_CURRENT_DATA) {
      this.setState('paused');
      this.changed();
    }
  }

  /** Something outside the page resumed the audio: follow it. */
  private onPlay(): void {
    if (this.state === 'paused' && !this.audio.paused) {
      this.setState('playing');
      this.changed();
    }
  }

  private async track(id: number): Promise<Track | undefined> {
    const known = this.trackCache.get(id);
    if (known) return known;
    const found = (await this.host.tracks([id])).find((t) => t.id === id);
    if (found) {
      if (this.trackCache.size >= TRACK_CACHE_MAX) this.trackCache.clear();
      this.trackCache.set(id, found);
    }
    return found;
  }

  /** Remembers the queue, its current item and the position, for the next visit. */
  private saveQueue(): void {
    const storage = this.host.storage;
    if (!storage) return;
    this.savedAt = this.host.now();
    const tracks = this.queue.rows().map((r) => r.track).filter((t): t is number => t !== null);
    const current = this.queue.currentIndex;
    const from = tracks.length > SAVED_QUEUE_MAX ? Math.max(0, Math.min((current ?? 0) - 1_000, tracks.length - SAVED_QUEUE_MAX)) : 0;
    const saved: SavedQueue = {
      tracks: tracks.slice(from, from + SAVED_QUEUE_MAX),
      current: current === null ? null : current - from,
      position_ms: this.position(),
    };
    storage.setItem(QUEUE_KEY, JSON.stringify(saved));
  }

  /** Shows the song in the system's media controls. */
  private showTrack(track: Track): void {
    const session = this.host.session;
    if (!session) return;
    const art = this.host.coverUrl(track.cover_hash, 512);
    session.metadata = new MediaMetadata({
      title: track.title,
      artist: track.artist,
      album: track.album,
      artwork: art ? [{ src: art, sizes: '512x512', type: 'image/jpeg' }] : [],
    });
  }

  private showPosition(position: number): void {
    const duration = (this.loaded?.track.duration_ms ?? 0) / 1000;
    if (!this.host.session?.setPositionState || duration <= 0) return;
    try {
      this.host.session.setPositionState({ duration, position: Math.min(position / 1000, duration), playbackRate: 1 });
    } catch {
      // A browser that rejects the state (a position past a duration it measured otherwise)
      // only shows less; playing is not affected.
    }
  }

  /** Lets the system's media controls (keys, lock screen, headset) drive the player. */
  private bindSession(): void {
    const session = this.host.session;
    if (!session) return;
    const handlers: [MediaSessionAction, MediaSessionActionHandler][] = [
      ['play', () => this.state !== 'playing' && this.fromSession('toggle_play')],
      ['pause', () => this.state === 'playing' && this.fromSession('toggle_play')],
      ['stop', () => this.fromSession('stop')],
      ['nexttrack', () => this.fromSession('next')],
      ['previoustrack', () => this.fromSession('previous')],
      ['seekto', (d) => d.seekTime !== undefined && this.fromSession('seek', { positionMs: Math.round(d.seekTime * 1000) })],
    ];
    for (const [action, handler] of handlers) {
      try {
        session.setActionHandler(action, handler);
      } catch {
        // Browsers throw for actions they do not know; the others still work.
      }
    }
  }

  private fromSession(command: string, args: Record<string, unknown> = {}): void {
    this.run(command, args).catch((e: unknown) => {
      const error: PlaybackError = { track: this.queue.currentTrack(), message: messageOf(e) };
      this.host.emit('player-error', error);
    });
  }
}

/** The queue as remembered between visits. */
interface SavedQueue {
  tracks: number[];
  current: number | null;
  position_ms: number;
}

function readJson(storage: PlayerHost['storage'], key: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(storage?.getItem(key) ?? 'null');
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** The kept settings, each one that is missing or out of range taken from the defaults. */
function readSettings(storage: PlayerHost['storage']): Kept {
  const raw = readJson(storage, SETTINGS_KEY) ?? {};
  const gain = (raw.replay_gain ?? {}) as Record<string, unknown>;
  const volume = raw.volume;
  const preamp = gain.preamp_db;
  return {
    volume: typeof volume === 'number' && volume >= 0 && volume <= 1 ? volume : defaults.volume,
    muted: typeof raw.muted === 'boolean' ? raw.muted : defaults.muted,
    shuffle: typeof raw.shuffle === 'boolean' ? raw.shuffle : defaults.shuffle,
    repeat: repeatModes.includes(raw.repeat as RepeatMode) ? (raw.repeat as RepeatMode) : defaults.repeat,
    replay_gain: {
      mode: gainModes.includes(gain.mode as GainMode) ? (gain.mode as GainMode) : defaults.replay_gain.mode,
      preamp_db: typeof preamp === 'number' && preamp >= -15 && preamp <= 15 ? preamp : defaults.replay_gain.preamp_db,
      prevent_clipping:
        typeof gain.prevent_clipping === 'boolean' ? gain.prevent_clipping : defaults.replay_gain.prevent_clipping,
    },
  };
}

function readQueue(storage: PlayerHost['storage']): SavedQueue | null {
  const raw = readJson(storage, QUEUE_KEY);
  if (!raw || !Array.isArray(raw.tracks) || !raw.tracks.every((t) => Number.isSafeInteger(t))) return null;
  const current = Number.isSafeInteger(raw.current) ? (raw.current as number) : null;
  const position = Number.isSafeInteger(raw.position_ms) && (raw.position_ms as number) > 0 ? (raw.position_ms as number) : 0;
  return { tracks: (raw.tracks as number[]).slice(0, SAVED_QUEUE_MAX), current, position_ms: position };
}

/** Why the browser could not play a source, from `MediaError.code`. */
function mediaErrorText(code: number | undefined): string {
  switch (code) {
    case 2:
      return 'the network failed while it streamed';
    case MEDIA_ERR_DECODE:
      return 'its audio could not be decoded';
    case MEDIA_ERR_SRC_NOT_SUPPORTED:
      return 'this browser cannot play its format, or the locker did not send it';
    default:
      return 'playing it was interrupted';
  }
}

function messageOf(e: unknown): string {
  const message = (e as Partial<AppError> | null)?.message;
  return typeof message === 'string' ? message : String(e);
}

function invalid(message: string): AppError {
  return { kind: 'invalid_input', message };
}

function ids(args: Record<string, unknown>, name: string): number[] {
  const value = args[name];
  if (!Array.isArray(value) || !value.every((v) => Number.isSafeInteger(v))) throw invalid(`${name} must be a list of ids`);
  return value as number[];
}

function whole(args: Record<string, unknown>, name: string): number {
  const value = args[name];
  if (!Number.isSafeInteger(value) || (value as number) < 0) throw invalid(`${name} must be a whole number`);
  return value as number;
}

function finite(args: Record<string, unknown>, name: string): number {
  const value = args[name];
  if (typeof value !== 'number' || !Number.isFinite(value)) throw invalid(`${name} must be a number`);
  return value;
}

function flag(args: Record<string, unknown>, name: string): boolean {
  const value = args[name];
  if (typeof value !== 'boolean') throw invalid(`${name} must be true or false`);
  return value;
}

function repeatMode(value: unknown): RepeatMode {
  if (!repeatModes.includes(value as RepeatMode)) throw invalid('the repeat mode is off, one or all');
  return value as RepeatMode;
}

function gainSetting(value: unknown): ReplayGainSetting {
  const v = (value ?? {}) as Record<string, unknown>;
  const preamp = v.preamp_db;
  if (!gainModes.includes(v.mode as GainMode)) throw invalid('the ReplayGain mode is off, track or album');
  if (typeof preamp !== 'number' || !Number.isFinite(preamp) || preamp < -15 || preamp > 15) {
    throw invalid('the pre-amp is between -15 and 15 dB');
  }
  if (typeof v.prevent_clipping !== 'boolean') throw invalid('prevent_clipping must be true or false');
  return { mode: v.mode as GainMode, preamp_db: preamp, prevent_clipping: v.prevent_clipping };
}
