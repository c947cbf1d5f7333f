// The web player reads the locker's CSRF cookie and error bodies as the server writes them.
import { describe, expect, it } from 'vitest';
import { cookieValue, errorFrom } from './wire';

describe('cookieValue', () => {
  it('finds the named cookie among others, decoded', () => {
    expect(cookieValue('theme=dark; skylark_csrf=a%2Bb%3D; x=1', 'skylark_csrf')).toBe('a+b=');
    expect(cookieValue('skylark_csrf=abc', 'skylark_csrf')).toBe('abc');
    expect(cookieValue('not_skylark_csrf=abc; other=1', 'skylark_csrf')).toBeNull();
    expect(cookieValue('', 'skylark_csrf')).toBeNull();
  });
});

describe('errorFrom', () => {
  it('maps API codes to the kinds the UI tells apart', () => {
    const body = (code: string) => ({ error: { code, message: `m ${code}` } });
    expect(errorFrom(404, body('not_found'))).toEqual({ kind: 'not_found', message: 'm not_found' });
    expect(errorFrom(400, body('bad_request')).kind).toBe('invalid_input');
    expect(errorFrom(409, body('conflict')).kind).toBe('invalid_input');
    expect(errorFrom(403, body('forbidden')).kind).toBe('internal');
    expect(errorFrom(500, body('internal')).kind).toBe('internal');
  });

  it('falls back on the status when the body is not the API shape', () => {
    expect(errorFrom(502, 'Bad Gateway')).toEqual({ kind: 'internal', message: 'the locker answered 502' });
    expect(errorFrom(404, null).kind).toBe('not_found');
    expect(errorFrom(422, {}).kind).toBe('invalid_input');
  });
});
