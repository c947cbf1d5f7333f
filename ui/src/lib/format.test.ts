import { describe, expect, it } from 'vitest';
import { bytes, duration, fileName, longDuration, plural, stars, timeLeft } from './format';

describe('format', () => {
  it('formats track durations', () => {
    expect(duration(0)).toBe('0:00');
    expect(duration(187_400)).toBe('3:07');
    expect(duration(3_723_000)).toBe('1:02:03');
    expect(duration(-5)).toBe('0:00');
    expect(duration(Number.NaN)).toBe('0:00');
  });

  it('says roughly how long is left', () => {
    expect(timeLeft(20)).toBe('less than a minute left');
    expect(timeLeft(150)).toBe('about 3 minutes left');
    expect(timeLeft(60)).toBe('about 1 minute left');
    expect(timeLeft(3 * 3600 + 900)).toBe('about 3.3 hours left');
  });

  it('formats totals', () => {
    expect(longDuration(0)).toBe('0 minutes');
    expect(longDuration(60_000)).toBe('1 minute');
    expect(longDuration(5 * 3600_000 + 12 * 60_000)).toBe('5 hours 12 minutes');
    expect(longDuration(51 * 3600_000)).toBe('2 days 3 hours');
    expect(longDuration(3600_000)).toBe('1 hour');
  });

  it('pluralises with separators', () => {
    expect(plural(1, 'song')).toBe('1 song');
    expect(plural(12345, 'song')).toBe('12,345 songs');
  });

  it('formats sizes', () => {
    expect(bytes(512)).toBe('512 bytes');
    expect(bytes(4_200_000_000)).toBe('4.2 GB');
    expect(bytes(12_000_000)).toBe('12 MB');
  });

  it('shows stars and file names', () => {
    expect(stars(null)).toBe('');
    expect(stars(60)).toBe('★★★☆☆');
    expect(stars(100)).toBe('★★★★★');
    expect(fileName('/music/a b/Song.flac')).toBe('Song.flac');
    expect(fileName('C:\\Music\\Song.mp3')).toBe('Song.mp3');
  });
});
