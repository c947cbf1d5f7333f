// The backend this build runs on. This module names the desktop one; the web build resolves that
// import to `http.ts` (see vite.config.ts), so this is the one place where the two builds part.

import { backend } from './tauri';

export type { Backend, Features, UploadProgress, UploadReport } from './types';

export const {
  features,
  call,
  on,
  listenNow,
  setCoverDir,
  coverUrl,
  pickFolders,
  pickFiles,
  pickFile,
  pickSaveFile,
  downloadTrack,
  uploadFiles,
  signOut,
} = backend;
