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

  it('drops failures of older calls, not of the latest', async () => {
    const rejecters: ((e: Error) => void)[] = [];
    const ask = latest((_: string) => new Promise<string>((_resolve, reject) => rejecters.push(reject)));
    const first = ask('a');
    const second = ask('b');
    rejecters[0]!(new Error('first failed'));
    rejecters[1]!(new Error('second failed'));
    expect(await first).toEqual({ stale: true });
    await expect(second).rejects.toThrow('second failed');
  });
});

describe('moved', () => {
  it('moves an item forwards and backwards', () => {
    expect(moved(['a', 'b', 'c', 'd'], 0, 2)).toEqual(['b', 'c', 'a', 'd']);
    expect(moved(['a', 'b', 'c', 'd'], 3, 0)).toEqual(['d', 'a', 'b', 'c']);
    expect(moved(['a', 'b'], 5, 0)).toEqual(['a', 'b']);
  });
});
