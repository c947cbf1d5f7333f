// What the end-to-end suites share: waiting for a server to listen, and making audio with
// ffmpeg.

import { execFileSync } from 'node:child_process';
import net from 'node:net';

/** Runs ffmpeg quietly, overwriting its output. */
export function ffmpeg(...args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

/**
 * Resolves once something accepts connections on `port` of the loopback address, polled every
 * 100 ms (a TCP connect, not an HTTP request: tauri-driver answers none until a session runs).
 */
export async function waitForPort(port, timeoutMs, what = 'the server') {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const open = await new Promise((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not listen on port ${port}`);
}
