// Formatting for display: durations, counts, sizes, dates.

/** "3:07", "1:02:03"; negative and non-finite values show as 0:00. */
export function duration(ms: number): string {
  const total = Number.isFinite(ms) && ms > 0 ? Math.floor(ms / 1000) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** "5 hours 12 minutes", "2 days 3 hours" for totals. */
export function longDuration(ms: number): string {
  const minutes = Math.round(Math.max(0, ms) / 60000);
  const days = Math.floor(minutes / 1440);
  const hours = Math.floor((minutes % 1440) / 60);
  const mins = minutes % 60;
  const parts: string[] = [];
  if (days) parts.push(plural(days, 'day'));
  if (hours) parts.push(plural(hours, 'hour'));
  if (!days && (mins || !hours)) parts.push(plural(mins, 'minute'));
  return parts.slice(0, 2).join(' ');
}

/** "1 song", "2 songs", with thousands separated. */
export function plural(n: number, word: string, many = `${word}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? word : many}`;
}

/** "4.2 GB". */
export function bytes(n: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = Math.max(0, n);
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}

/** A date as "12 Mar 2024" in the user's locale, or an empty string. */
export function date(unixMs: number | null): string {
  if (unixMs === null || !Number.isFinite(unixMs)) return '';
  return new Date(unixMs).toLocaleDateString(undefined, {
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
}

/** 0–100 ratings as stars: "★★★☆☆". */
export function stars(rating: number | null): string {
  if (rating === null) return '';
  const full = Math.round(rating / 20);
  return '★'.repeat(full) + '☆'.repeat(5 - full);
}

/** The last part of a path, whichever separator it uses. */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** A time left, roughly, as people say it: "about 3 min left". */
export function timeLeft(seconds: number): string {
  if (seconds < 60) return 'less than a minute left';
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `about ${plural(minutes, 'minute')} left`;
  const hours = Math.round(seconds / 360) / 10;
  return `about ${hours.toLocaleString('en-US')} hours left`;
}
