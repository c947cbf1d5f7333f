// Vite builds the UI into dist/, which the desktop app embeds. Vitest runs the logic tests.
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  build: {
    target: 'es2022',
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK and WebView2 both load modules; inline nothing so the CSP needs no 'unsafe-inline'.
    assetsInlineLimit: 0,
  },
  test: {
    include: ['src/**/*.test.ts'],
  },
});
