// Music uploaded from the page (the web player): files chosen in Settings or dropped on the
// window go up one batch at a time; files that arrive while a batch runs make the next one.
// The UI follows `progress` while it runs and `report` once it is done.

import { app } from './app.svelte';
import { uploadFiles, type UploadProgress, type UploadReport } from './backend';
import { isMusicFile } from './dropped';
import { plural } from './format';

class UploadStore {
  running = $state(false);
  /** How far the running batch has got (the last batch's end once done). */
  progress = $state<UploadProgress | null>(null);
  /** What the uploads since the status was last dismissed did. */
  report = $state<UploadReport | null>(null);
  /** Files waiting for the running batch to finish. */
  waiting = $state(0);
  private next: File[] = [];

  /** Uploads the music among `files`; says which files were left out as not music. */
  add(files: File[]): void {
    const music = files.filter(isMusicFile);
    const others = files.filter((f) => !isMusicFile(f));
    if (others.length) {
      const names = others.slice(0, 3).map((f) => f.name).join(', ');
      app.error(`${plural(others.length, 'file')} left out, as not music: ${names}${others.length > 3 ? '…' : ''}`);
    }
    if (!music.length) return;
    this.next.push(...music);
    this.waiting = this.next.length;
    if (!this.running) void this.run();
  }

  /** Hides the finished uploads' status. */
  dismiss(): void {
    if (this.running) return;
    this.progress = null;
    this.report = null;
  }

  private async run(): Promise<void> {
    this.running = true;
    this.report = null;
    const total: UploadReport = { uploaded: 0, failed: [] };
    while (this.next.length) {
      const batch = this.next.splice(0);
      this.waiting = 0;
      this.progress = {
        filesDone: 0,
        filesTotal: batch.length,
        bytesDone: 0,
        bytesTotal: batch.reduce((total, f) => total + f.size, 0),
      };
      const done = await app.attempt(() => uploadFiles(batch, (p) => (this.progress = p)));
      if (done) {
        total.uploaded += done.uploaded;
        total.failed.push(...done.failed);
        this.report = { uploaded: total.uploaded, failed: [...total.failed] };
      }
    }
    this.running = false;
    if (total.uploaded) app.notify(`${plural(total.uploaded, 'song')} uploaded to your locker.`);
    if (total.failed.length) {
      const some = total.failed.slice(0, 3).map((f) => `${f.name} (${f.message})`);
      app.error(`${plural(total.failed.length, 'file')} could not be uploaded: ${some.join('; ')}${total.failed.length > 3 ? '…' : ''}`);
    }
  }
}

export const upload = new UploadStore();
