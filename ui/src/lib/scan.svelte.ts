// The running scan as the UI follows it: live counts and the current file, then the report.

import { api } from './api';
import { app } from './app.svelte';
import { on } from './transport';
import type { ScanFinished, ScanProgress, ScanReport } from './types';

class ScanStore {
  running = $state(false);
  progress = $state<ScanProgress | null>(null);
  report = $state<ScanReport | null>(null);
  error = $state<string | null>(null);
  private started = false;

  listen(): void {
    if (this.started) return;
    this.started = true;
    on<ScanProgress>('scan-progress', (p) => {
      this.running = true;
      this.progress = p;
    });
    on<ScanFinished>('scan-finished', (f) => {
      this.running = false;
      this.report = f.report;
      this.error = f.error?.message ?? null;
      if (f.error) app.error(f.error.message);
    });
  }

  async start(paths: string[]): Promise<boolean> {
    this.listen();
    this.report = null;
    this.error = null;
    this.progress = null;
    try {
      await api.scan(paths);
      this.running = true;
      return true;
    } catch (e) {
      app.fail(e);
      return false;
    }
  }
}

export const scan = new ScanStore();
