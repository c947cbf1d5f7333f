// Out-of-order answers: when the user types fast, an older search can answer after a newer one.
// `latest` wraps an async function so only the answer to the most recent call is delivered, and
// only its failure: an older call's failure, arriving late, is stale too.

export function latest<A extends unknown[], T>(
  fn: (...args: A) => Promise<T>,
): (...args: A) => Promise<{ stale: true } | { stale: false; value: T }> {
  let generation = 0;
  return async (...args: A) => {
    const mine = ++generation;
    let value: T;
    try {
      value = await fn(...args);
    } catch (e) {
      if (mine !== generation) return { stale: true };
      throw e;
    }
    return mine === generation ? { stale: false, value } : { stale: true };
  };
}

/** Moves the element at `from` to `to` in a copy of `list` (drag-and-drop reordering). */
export function moved<T>(list: readonly T[], from: number, to: number): T[] {
  const out = list.slice();
  if (from < 0 || from >= out.length) return out;
  const [item] = out.splice(from, 1);
  out.splice(Math.max(0, Math.min(out.length, to)), 0, item as T);
  return out;
}
