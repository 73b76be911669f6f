import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// The app is a static site: `npm run build` writes dist/, which works offline.
// Monaco's editor worker is bundled by `?worker` imports (src/ui/editor/monaco.ts); only its core
// and the contributions we use are loaded, never its ~80 bundled languages.
export default defineConfig({
  root: '.',
  base: './',
  plugins: [svelte()],
  server: { port: 5173, open: false },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
});
