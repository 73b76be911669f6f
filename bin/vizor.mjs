#!/usr/bin/env node
// The `vizor` command: runs the TypeScript CLI through tsx, so `npx vizor` works after `npm install`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
