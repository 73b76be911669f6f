#!/usr/bin/env node
// Installs what is missing before `npm start` / `npm test`, so both work on a fresh machine.
//  - npm packages: `npm ci` when node_modules is absent or older than package-lock.json.
//  - with --test: the oracles the test suite calls (nasm, ndisasm, qemu-system-i386, chromium, gdb),
//    from Debian's packages through apt-get when we are root. A missing oracle is an error, never a skip.
import { existsSync, statSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const wantTest = process.argv.includes('--test');

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`setup: \`${cmd} ${args.join(' ')}\` failed (status ${r.status})`);
    process.exit(1);
  }
}

function npmPackagesStale() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker)) return true;
  return statSync(join(root, 'package-lock.json')).mtimeMs > statSync(marker).mtimeMs;
}

function has(cmd) {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

if (npmPackagesStale()) {
  console.log('setup: installing npm packages (npm ci)…');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

if (wantTest) {
  // command -> Debian package that provides it
  const oracles = {
    nasm: 'nasm',
    ndisasm: 'nasm',
    'qemu-system-i386': 'qemu-system-x86',
    chromium: 'chromium',
    gdb: 'gdb',
  };
  const missing = [...new Set(Object.entries(oracles).filter(([c]) => !has(c)).map(([, p]) => p))];
  if (missing.length > 0) {
    const isRoot = process.getuid?.() === 0;
    if (!isRoot || !has('apt-get')) {
      console.error(`setup: the test oracles need Debian packages: ${missing.join(' ')}.`);
      console.error(`       install them with: sudo apt-get install -y --no-install-recommends ${missing.join(' ')}`);
      process.exit(1);
    }
    console.log(`setup: installing ${missing.join(' ')} from Debian's packages…`);
    run('apt-get', ['update', '-qq']);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing]);
  }
}
