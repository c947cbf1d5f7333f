// The running scan as the UI follows it: live counts and the current file, then the report.

import { api } from './api';
import { app } from './app.svelte';
import { listenNow } from './backend';
import type { ScanFinished, ScanProgress, ScanReport } from './types';

class ScanStore {
  running = $state(false);
  progress = $state<ScanProgress | null>(null);
  report = $state<ScanReport | null>(null);
  error = $state<string | null>(null);
  private listening: Promise<void> | null = null;

  /** Follows the scan events; resolves once both listeners are registered. */
  listen(): Promise<void> {
    this.listening ??= Promise.all([
      listenNow<ScanProgress>('scan-progress', (p) => {
        this.running = true;
        this.progress = p;
      }),
      listenNow<ScanFinished>('scan-finished', (f) => {
        this.running = false;
        this.report = f.report;
        this.error = f.error?.message ?? null;
        if (f.error) app.error(f.error.message);
      }),
    ]).then(() => {});
    return this.listening;
  }

  async start(paths: string[]): Promise<boolean> {
    // Listening before the scan starts, and running before it is asked for: a small scan can
    // finish (and say so) before the command that started it has answered.
    await this.listen();
    this.report = null;
    this.error = null;
    this.progress = null;
    this.running = true;
    try {
      await api.scan(paths);
      return true;
    } catch (e) {
      this.running = false;
      app.fail(e);
      return false;
    }
  }
}

export const scan = new ScanStore();
