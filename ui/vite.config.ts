// Vite builds the UI twice from one codebase: into dist/ for the desktop app, which embeds it,
// and with `--mode web` into dist-web/ for the locker, which serves it as the web player.
// Vitest runs the logic tests.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';

/**
 * The web build's one difference: imports of the desktop backend (`src/lib/backend/tauri.ts`)
 * resolve to the browser one (`http.ts`) beside it, so the bundle holds no Tauri code.
 */
function webBackend(): Plugin {
  const desktop = /\/src\/lib\/backend\/tauri\.ts$/;
  return {
    name: 'skylark-web-backend',
    enforce: 'pre',
    async resolveId(source, importer, options) {
      if (!importer || !/tauri(\.ts)?$/.test(source)) return null;
      const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
      if (!resolved || !desktop.test(resolved.id.replaceAll('\\', '/'))) return null;
      return resolved.id.replace(/tauri\.ts$/, 'http.ts');
    },
  };
}

export default defineConfig(({ mode }) => ({
  plugins: [svelte(), ...(mode === 'web' ? [webBackend()] : [])],
  clearScreen: false,
  build: {
    target: 'es2022',
    outDir: mode === 'web' ? 'dist-web' : 'dist',
    emptyOutDir: true,
    // Nothing inline (WebKitGTK, WebView2 and browsers all load modules), so neither the app's
    // CSP nor the locker's needs 'unsafe-inline'.
    assetsInlineLimit: 0,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
}));
