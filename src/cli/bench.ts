// `vizor bench [name...]`: runs the benchmarks under bench/ one after another, each in its own
// process (so one's JIT warm-up and heap do not colour the next), and lets them print their figures.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function command(args: string[]): Promise<number> {
  const available = readdirSync(join(root, 'bench'))
    .filter((f) => f.endsWith('.ts') && !f.startsWith('fuzz-') && !f.startsWith('_'))
    .map((f) => f.slice(0, -3))
    .sort();
  const wanted = args.length > 0 ? args : available;
  const unknown = wanted.filter((w) => !available.includes(w));
  if (unknown.length > 0) {
    process.stderr.write(`vizor bench: no benchmark named ${unknown.join(', ')} (have: ${available.join(', ')})\n`);
    return 2;
  }
  let status = 0;
  for (const name of wanted) {
    process.stdout.write(`\n== bench/${name} ==\n`);
    const r = spawnSync(process.execPath, [join(root, 'bin', 'vizor-ts.mjs'), join(root, 'bench', `${name}.ts`)], {
      stdio: 'inherit',
      cwd: root,
    });
    if (r.status !== 0) status = 1;
  }
  return status;
}
