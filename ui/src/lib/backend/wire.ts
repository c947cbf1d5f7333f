// The locker's HTTP conventions as the web player meets them: the CSRF cookie whose value every
// request that changes something echoes in a header, and the `{"error": {"code", "message"}}`
// bodies of failed requests, which become the AppErrors the desktop's commands reject with.

import type { AppError } from '../types';

/** The readable cookie the server sets beside its HttpOnly session cookie. */
export const CSRF_COOKIE = 'skylark_csrf';
/** The header that carries the CSRF cookie's value on every request but GET. */
export const CSRF_HEADER = 'X-Skylark-CSRF';

/** The value of cookie `name` in a `document.cookie` string, or null without one. */
export function cookieValue(cookies: string, name: string): string | null {
  for (const pair of cookies.split(';')) {
    const at = pair.indexOf('=');
    if (at < 0 || pair.slice(0, at).trim() !== name) continue;
    const value = pair.slice(at + 1).trim();
    try {
      return decodeURIComponent(value);
    } catch {
      return value;
    }
  }
  return null;
}

/** The kind of AppError for an API error code: the UI tells apart what is missing, what the user
 * asked wrongly (and can change), and the rest. */
export function kindOf(code: string): AppError['kind'] {
  switch (code) {
    case 'not_found':
      return 'not_found';
    case 'bad_request':
    case 'invalid_input':
    case 'conflict':
    case 'payload_too_large':
    case 'quota_exceeded':
      return 'invalid_input';
    default:
      return 'internal';
  }
}

/** The AppError for a failed response: its status and its body, parsed as JSON if it was. */
export function errorFrom(status: number, body: unknown): AppError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === 'string' ? error.code : '';
  const message = typeof error?.message === 'string' && error.message ? error.message : `the locker answered ${status}`;
  if (code) return { kind: kindOf(code), message };
  return { kind: status === 404 ? 'not_found' : status >= 400 && status < 500 ? 'invalid_input' : 'internal', message };
}
