import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Three projects: the headless core (machine, assembler, trace, debugger, CLI) runs in plain Node;
// UI logic that needs a DOM (test/unit/ui-*.test.ts) runs under happy-dom with the browser build
// of Svelte; the app end to end (test/e2e/) runs in Debian's Chromium through playwright-core.
// Conformance tests call real oracles (nasm, ndisasm, qemu-system-i386, gdb, chromium); in CI a
// missing oracle fails, it never skips.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          environment: 'node',
          include: ['test/unit/**/*.test.ts', 'test/conformance/**/*.test.ts'],
          exclude: ['test/unit/ui-*.test.ts', '**/node_modules/**'],
        },
      },
      {
        extends: true,
        plugins: [svelte()],
        resolve: { conditions: ['browser'] },
        test: {
          name: 'dom',
          environment: 'happy-dom',
          include: ['test/unit/ui-*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          // One Chromium and one built site for the whole e2e suite: files run one after another.
          fileParallelism: false,
        },
      },
    ],
  },
});
