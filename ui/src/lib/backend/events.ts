// The web player's events: an in-page bus standing in for the desktop app's event channel. The
// player adapter and the HTTP backend emit on it; the UI follows it through `on`/`listenNow`.

type Handler = (payload: unknown) => void;

const handlers = new Map<string, Set<Handler>>();

/**
 * Sends `payload` to everyone following `event`. Delivery is a microtask later, in the order of
 * the calls, as the desktop's events arrive after the command that caused them; a handler that
 * throws then fails on its own, not inside the emitter.
 */
export function emit(event: string, payload: unknown): void {
  const following = handlers.get(event);
  if (!following?.size) return;
  for (const handler of [...following]) {
    queueMicrotask(() => {
      if (following.has(handler)) handler(payload);
    });
  }
}

/** Follows an event; returns the function that stops following it. */
export function on<T>(event: string, handler: (payload: T) => void): () => void {
  const h = handler as Handler;
  let following = handlers.get(event);
  if (!following) {
    following = new Set();
    handlers.set(event, following);
  }
  following.add(h);
  return () => {
    following.delete(h);
  };
}

/** Like `on`; the bus registers at once, so it resolves straight away. */
export async function listenNow<T>(event: string, handler: (payload: T) => void): Promise<() => void> {
  return on(event, handler);
}
