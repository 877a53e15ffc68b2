// Builds the web client (src/web) into dist/web, which the Axon server serves. Everything the
// pages load is bundled here: no CDN, no remote font (the client must work as a Tor hidden service).
import react from '@vitejs/plugin-react';
import tailwindcss from '@tailwindcss/vite';
import { defineConfig } from 'vite';

export default defineConfig({
  root: 'src/web',
  base: '/',
  plugins: [react(), tailwindcss()],
  build: {
    outDir: '../../dist/web',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
  },
  // The dev server's own sources live under /api/ too (src/web/api/*.ts): only API paths go to Axon.
  server: { proxy: { '^/api/(?!.*\\.tsx?$)': 'http://127.0.0.1:8000' } },
});
