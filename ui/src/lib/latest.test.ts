import { describe, expect, it } from 'vitest';
import { latest, moved } from './latest';

describe('latest', () => {
  it('drops answers that arrive after a newer call', async () => {
    const resolvers: ((v: string) => void)[] = [];
    const search = latest((q: string) => new Promise<string>((r) => resolvers.push(() => r(q))));
    const first = search('a');
    const second = search('ab');
    resolvers[1]!('');
    resolvers[0]!('');
    expect(await second).toEqual({ stale: false, value: 'ab' });
    expect(await first).toEqual({ stale: true });
  });
});

describe('moved', () => {
  it('moves an item forwards and backwards', () => {
    expect(moved(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moved(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c']);
    expect(moved(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
  });
});
