#!/usr/bin/env node
// Runs one TypeScript file (a benchmark or script) with its arguments: node bin/vizor-ts.mjs FILE.ts ARGS...
import { register } from 'tsx/esm/api';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';

register();
const [file, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], resolve(file), ...rest];
await import(pathToFileURL(resolve(file)).href);
