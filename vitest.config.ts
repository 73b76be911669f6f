import { defineConfig } from 'vitest/config';

// Two projects: the headless core (machine, assembler, trace, debugger, CLI) runs in plain Node;
// UI logic that needs a DOM runs under happy-dom. Conformance tests call real oracles
// (nasm, ndisasm, qemu-system-i386, gdb); in CI a missing oracle fails, it never skips.
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
        },
      },
    ],
  },
});
