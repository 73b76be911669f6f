import { defineConfig } from 'vite';

// The app is a static site: `npm run build` writes dist/, which works offline.
export default defineConfig({
  root: '.',
  base: './',
  server: { port: 5173, open: false },
  build: { outDir: 'dist', target: 'es2022', sourcemap: true },
  worker: { format: 'es' },
});
