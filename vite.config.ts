import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { fileURLToPath } from 'node:url';

// The app is a static site: `npm run build` writes dist/, which works offline.
// Monaco's editor worker is bundled by `?worker` imports (src/ui/editor/monaco.ts); only its core
// and the contributions we use are loaded, never its ~80 bundled languages.
export default defineConfig({
  root: '.',
  base: './',
  plugins: [svelte()],
  server: { port: 5173, open: false },
  build: {
    outDir: 'dist', target: 'es2022', sourcemap: true, chunkSizeWarningLimit: 4096,
    // viz.html: the hypervisor views on their own page (src/ui/hv/), fed from a trace or a generator.
    // migration.html: the live-migration view (src/ui/migration/), fed from a `vizor migrate --trace` file.
    rollupOptions: { input: { main: fileURLToPath(new URL('index.html', import.meta.url)), viz: fileURLToPath(new URL('viz.html', import.meta.url)), migration: fileURLToPath(new URL('migration.html', import.meta.url)) } },
  },
  worker: { format: 'es' },
});
