// The web player plays, skips, counts plays and remembers settings as the desktop engine does,
// driven here through a stand-in audio element and host.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { NowPlaying, PlaybackError, Settings, Track } from '../types';
import { BrowserPlayer, countsAsPlay, volumeGain, type AudioOut, type PlayerHost } from './player';

/** An audio element that plays instantly and fires its events a microtask later, as a browser
 * fires them after the call that caused them. */
class FakeAudio extends EventTarget implements AudioOut {
  src = '';
  currentTime = 0;
  volume = 1;
  muted = false;
  paused = true;
  ended = false;
  readyState = 0;
  error: { code: number } | null = null;
  /** The name of the error `play()` rejects with, if it should. */
  refuse: string | null = null;
  /** Sources that fail to load, as a browser fails a format it cannot play. */
  readonly broken = new Set<string>();
  /** MIME types `canPlayType` says no to. */
  readonly unplayable = new Set<string>();

  canPlayType(type: string): string {
    return this.unplayable.has(type) ? '' : 'maybe';
  }

  async play(): Promise<void> {
    if (this.refuse) throw Object.assign(new Error('refused'), { name: this.refuse });
    if (this.broken.has(this.src)) {
      this.fail(4);
      throw Object.assign(new Error('unsupported'), { name: 'NotSupportedError' });
    }
    this.paused = false;
    this.ended = false;
    this.readyState = 4;
    this.fire('play');
    this.fire('playing');
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.fire('pause');
  }

  /** Plays to the end of a song `seconds` long. */
  finish(seconds: number): void {
    this.currentTime = seconds;
    this.paused = true;
    this.ended = true;
    this.fire('ended');
  }

  fail(code: number): void {
    this.error = { code };
    this.fire('error');
  }

  private fire(type: string): void {
    queueMicrotask(() => this.dispatchEvent(new Event(type)));
  }
}

const NOW = 1_700_000_000_000;

function track(id: number, seconds = 200): Track {
  return {
    id,
    uid: `uid-${id}`,
    path: null,
    title: `Song ${id}`,
    artist: 'Artist',
    artists: ['Artist'],
    album: 'Album',
    album_id: 1,
    album_artist: 'Artist',
    track_no: id,
    track_total: null,
    disc_no: null,
    disc_total: null,
    year: null,
    date: null,
    genre: '',
    composer: null,
    duration_ms: seconds * 1000,
    sample_rate: null,
    channels: null,
    bit_depth: null,
    bitrate_kbps: null,
    codec: 'FLAC',
    has_cover: false,
    cover_hash: null,
    play_count: 0,
    last_played: null,
    rating: null,
    added: 0,
    availability: 'locker',
  };
}

/** A player over a library of songs 1 to 5 (FLAC unless `codecs` says otherwise), with what it
 * sends kept for the test to read. */
function setup(store = new Map<string, string>(), codecs: Record<number, string> = {}) {
  const audio = new FakeAudio();
  const events: [string, unknown][] = [];
  const played: [number, number][] = [];
  const host: PlayerHost = {
    tracks: async (ids) =>
      ids.filter((id) => id >= 1 && id <= 5).map((id) => ({ ...track(id), codec: codecs[id] ?? 'FLAC' })),
    recordPlay: async (id, at) => {
      played.push([id, at]);
    },
    emit: (event, payload) => events.push([event, payload]),
    streamUrl: (t) => `/api/v1/tracks/${t.uid}/stream`,
    convertedUrl: (t) => `/api/v1/tracks/${t.uid}/wav`,
    coverUrl: () => null,
    now: () => NOW,
    storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v) },
    session: null,
  };
  let seed = 1;
  const player = new BrowserPlayer(audio, host, () => (seed = (seed * 16807) % 2147483647) / 2147483647);
  const state = () => [...events].reverse().find(([e]) => e === 'player-state')?.[1] as NowPlaying;
  const errors = () => events.filter(([e]) => e === 'player-error').map(([, p]) => p as PlaybackError);
  return { audio, player, events, played, state, errors, store };
}

/** Lets the events the fake fired, and the work they started, run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('BrowserPlayer', () => {
  it('plays a list from the chosen song, streaming it by uid', async () => {
    const { audio, player, state } = setup();
    await player.run('play_tracks', { tracks: [1, 2, 3], start: 1 });
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
    expect(audio.paused).toBe(false);
    expect(state()).toMatchObject({ state: 'playing', current: 1, queue: [{ track: 1 }, { track: 2 }, { track: 3 }] });
  });

  it('goes on to the next song at the end of one, counting the play, and stops after the last', async () => {
    const { audio, player, played, state } = setup();
    await player.run('play_tracks', { tracks: [1, 2], start: 0 });
    await settle();
    audio.finish(200);
    await settle();
    expect(played).toEqual([[1, NOW]]);
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
    expect(state()).toMatchObject({ state: 'playing', current: 1 });
    audio.finish(200);
    await settle();
    expect(played).toEqual([
      [1, NOW],
      [2, NOW],
    ]);
    expect(state()).toMatchObject({ state: 'stopped', current: null });
  });

  it('counts a skipped song only past half of it', async () => {
    const { audio, player, played } = setup();
    await player.run('play_tracks', { tracks: [1, 2, 3], start: 0 });
    await settle();
    audio.currentTime = 30;
    await player.run('next');
    await settle();
    expect(played).toEqual([]);
    audio.currentTime = 120;
    await player.run('next');
    expect(played).toEqual([[2, NOW]]);
  });

  it('repeats one song at its end, but moves on when skipped', async () => {
    const { audio, player, state } = setup();
    await player.run('set_repeat', { mode: 'one' });
    await player.run('play_tracks', { tracks: [1, 2], start: 0 });
    await settle();
    audio.finish(200);
    await settle();
    expect(state()).toMatchObject({ current: 0, state: 'playing' });
    expect(audio.currentTime).toBe(0);
    await player.run('next');
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
  });

  it('restarts the song after its first three seconds, and goes back before them', async () => {
    const { audio, player, state } = setup();
    await player.run('play_tracks', { tracks: [1, 2], start: 1 });
    await settle();
    audio.currentTime = 5;
    await player.run('previous');
    expect(audio.currentTime).toBe(0);
    expect(state()).toMatchObject({ current: 1 });
    audio.currentTime = 1;
    await player.run('previous');
    expect(audio.src).toBe('/api/v1/tracks/uid-1/stream');
    expect(state()).toMatchObject({ current: 0, state: 'playing' });
  });

  it('plays a song whose format the browser does not play decoded to WAV, from where it was', async () => {
    const { audio, player, errors, state } = setup();
    audio.broken.add('/api/v1/tracks/uid-1/stream');
    await player.run('play_tracks', { tracks: [1, 2], start: 0 });
    await settle();
    expect(audio.src).toBe('/api/v1/tracks/uid-1/wav');
    expect(errors()).toHaveLength(0);
    expect(state()).toMatchObject({ current: 0, state: 'playing' });
    // A decode error midway: the WAV picks up at the same place.
    await player.run('play_tracks', { tracks: [2], start: 0 });
    await settle();
    audio.currentTime = 42;
    audio.fail(3);
    await settle();
    expect(audio.src).toBe('/api/v1/tracks/uid-2/wav');
    expect(audio.currentTime).toBe(42);
    expect(errors()).toHaveLength(0);
  });

  it('asks for WAV at once when the browser says it does not play the codec', async () => {
    const { audio, player, errors } = setup(undefined, { 1: 'alac', 2: 'aac' });
    audio.unplayable.add('audio/mp4; codecs="alac"');
    await player.run('play_tracks', { tracks: [1, 2], start: 0 });
    await settle();
    expect(audio.src).toBe('/api/v1/tracks/uid-1/wav');
    await player.run('next');
    await settle();
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
    expect(errors()).toHaveLength(0);
  });

  it('reports a song that cannot play, even decoded, and skips it', async () => {
    const { audio, player, errors, state } = setup();
    await player.run('play_tracks', { tracks: [1, 2, 3], start: 0 });
    await settle();
    audio.fail(4);
    await settle();
    expect(audio.src).toBe('/api/v1/tracks/uid-1/wav');
    expect(errors()).toHaveLength(0);
    audio.fail(4);
    await settle();
    expect(errors()).toHaveLength(1);
    expect(errors()[0]).toMatchObject({ track: 1 });
    expect(errors()[0]!.message).toContain('Song 1');
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
    expect(state()).toMatchObject({ current: 1, state: 'playing' });
  });

  it('stops instead of cycling when every song fails', async () => {
    const { audio, player, errors, state } = setup();
    for (const url of ['uid-1/stream', 'uid-1/wav', 'uid-2/stream', 'uid-2/wav']) audio.broken.add(`/api/v1/tracks/${url}`);
    await player.run('set_repeat', { mode: 'all' });
    await player.run('play_tracks', { tracks: [1, 2], start: 0 });
    for (let i = 0; i < 5; i++) await settle();
    expect(errors()).toHaveLength(2);
    expect(state()).toMatchObject({ state: 'stopped' });
  });

  it('skips a song the library no longer has', async () => {
    const { audio, player, errors } = setup();
    await player.run('play_tracks', { tracks: [99, 2], start: 0 });
    await settle();
    expect(errors()[0]).toMatchObject({ track: 99 });
    expect(audio.src).toBe('/api/v1/tracks/uid-2/stream');
  });

  it('shows paused when the browser will not start audio without a gesture', async () => {
    const { audio, player, state } = setup();
    audio.refuse = 'NotAllowedError';
    await player.run('play_tracks', { tracks: [1], start: 0 });
    await settle();
    expect(state()).toMatchObject({ state: 'paused' });
  });

  it('remembers volume, mute, shuffle, repeat and the queue for the next visit', async () => {
    const first = setup();
    await first.player.run('set_volume', { volume: 0.5 });
    await first.player.run('set_muted', { muted: true });
    await first.player.run('set_repeat', { mode: 'all' });
    await first.player.run('play_tracks', { tracks: [3, 4], start: 1 });
    expect(first.audio.volume).toBeCloseTo(0.125);
    await first.player.run('set_shuffle', { shuffle: true });
    first.audio.currentTime = 42;
    await first.player.run('toggle_play');

    const next = setup(first.store);
    const settings = (await next.player.run('get_settings')) as Settings;
    expect(settings).toMatchObject({ volume: 0.5, muted: true, shuffle: true, repeat: 'all', output_device: null, wizard_done: true });
    expect(next.audio.muted).toBe(true);
    const now = (await next.player.run('now_playing')) as NowPlaying;
    expect(now).toMatchObject({ state: 'stopped', current: 1, position_ms: 42_000, queue: [{ track: 3 }, { track: 4 }] });
    await next.player.run('toggle_play');
    expect(next.audio.src).toBe('/api/v1/tracks/uid-4/stream');
    expect(next.audio.currentTime).toBe(42);
  });

  it('refuses arguments of the wrong shape with an invalid_input error', async () => {
    const { player } = setup();
    await expect(player.run('play_tracks', { tracks: 'all', start: 0 })).rejects.toMatchObject({ kind: 'invalid_input' });
    await expect(player.run('set_replay_gain', { setting: { mode: 'track', preamp_db: 40, prevent_clipping: true } })).rejects.toMatchObject({
      kind: 'invalid_input',
    });
  });
});

describe('countsAsPlay', () => {
  it('counts half the song or four minutes, as the desktop does', () => {
    const min = (m: number) => m * 60_000;
    expect(countsAsPlay(20_000, min(3))).toBe(false);
    expect(countsAsPlay(90_000, min(3))).toBe(true);
    expect(countsAsPlay(min(4), min(20))).toBe(true);
    expect(countsAsPlay(min(3), min(20))).toBe(false);
    expect(countsAsPlay(0, 0)).toBe(false);
  });
});

describe('volumeGain', () => {
  it('follows the desktop cubic curve', () => {
    expect(volumeGain(0.5)).toBeCloseTo(0.125);
    expect(volumeGain(2)).toBe(1);
    expect(volumeGain(Number.NaN)).toBe(0);
  });
});
