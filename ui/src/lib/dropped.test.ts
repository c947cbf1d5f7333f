// Only music files from a drop are uploaded; anything else is left out before it costs bandwidth.
import { describe, expect, it } from 'vitest';
import { isMusicFile } from './dropped';

describe('isMusicFile', () => {
  it('takes the extensions the library reads, in any case', () => {
    expect(isMusicFile({ name: 'Song.FLAC', type: '' })).toBe(true);
    expect(isMusicFile({ name: 'a.b.mp3', type: 'audio/mpeg' })).toBe(true);
    expect(isMusicFile({ name: 'tone.wv', type: 'application/octet-stream' })).toBe(true);
  });

  it('leaves out other files, playlists included', () => {
    expect(isMusicFile({ name: 'cover.jpg', type: 'image/jpeg' })).toBe(false);
    expect(isMusicFile({ name: 'list.m3u', type: 'audio/x-mpegurl' })).toBe(false);
    expect(isMusicFile({ name: '.flac', type: '' })).toBe(false);
  });

  it('judges a file without an extension by its audio type', () => {
    expect(isMusicFile({ name: 'recording', type: 'audio/ogg' })).toBe(true);
    expect(isMusicFile({ name: 'recording', type: 'audio/x-mpegurl' })).toBe(false);
    expect(isMusicFile({ name: 'notes', type: 'text/plain' })).toBe(false);
  });
});
