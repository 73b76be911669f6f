// Snapshot and migration costs, in wall time on this machine (the migration's own times are
// virtual and printed by `vizor migrate`): saving and restoring a .vzs of a VM whose guest has
// touched 1 MiB, a whole pre-copy / post-copy migration of the writer kernel, and the pre-copy
// again with a CPU-bound neighbour on the source host (the writer gets half the CPU: fewer dirty
// pages per round).
//   npx tsx bench/migration.ts
import { dirname, join } from 'node:path';
import { Hypervisor } from '../src/hypervisor/index.ts';
import { readImage } from '../src/cli/image.ts';
import { driveVm, runHostUntilVm } from '../src/migration/driver.ts';
import { Migration } from '../src/migration/engine.ts';
import { loadVmFile, restoreVmInto, saveVm } from '../src/migration/snapshot.ts';

const root = join(dirname(new URL(import.meta.url).pathname), '..');
const MB = { kind: 'multiboot' as const, cmdline: 'k ' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const image = await readImage(join(root, 'fixtures/migration/writer.asm'));

function snapshotFigures(): void {
  const host = new Hypervisor({ hostMemoryBytes: 96 << 20 });
  const vm = host.addVm({ image, boot: MB, paging: 'nested' });
  driveVm(host, vm, { instructions: 11_000_000 });
  const saves: number[] = [], loads: number[] = [];
  let size = 0;
  for (let i = 0; i < 7; i++) {
    let t = performance.now();
    const bytes = saveVm(vm, image, { image: 'writer', boot: MB, memoryBytes: 64 << 20 });
    saves.push(performance.now() - t);
    size = bytes.length;
    const other = new Hypervisor({ hostMemoryBytes: 96 << 20 });
    const target = other.addVm({ image, boot: MB, paging: 'nested' });
    t = performance.now();
    restoreVmInto(target, loadVmFile(bytes).payload);
    loads.push(performance.now() - t);
    other.release();
  }
  host.release();
  console.log(`snapshot of the writer VM: ${size} bytes; save ${median(saves).toFixed(2)} ms, check + restore ${median(loads).toFixed(2)} ms (median of 7)`);
}

const cpuBound = await readImage(join(root, 'fixtures/migration/cpu-bound.asm'));

function migrationFigures(mode: 'precopy' | 'postcopy', neighbour = false): void {
  const a = new Hypervisor({ hostMemoryBytes: 192 << 20 }), b = new Hypervisor({ hostMemoryBytes: 96 << 20 });
  const src = a.addVm({ image, boot: MB, paging: 'nested' });
  if (neighbour) a.addVm({ image: cpuBound, boot: MB, paging: 'nested' });
  runHostUntilVm(a, src, 11_000_000);
  const t = performance.now();
  const m = new Migration(a, src, b, { link: { bandwidthBitsPerSecond: 100e6, latencyNs: 1e6 }, mode, maxDowntimeNs: 5e6 });
  const r = m.run({ image, boot: MB, paging: 'nested' });
  const wall = performance.now() - t;
  console.log(`${mode}${neighbour ? ' with a CPU-bound neighbour on the source' : ''}: ${wall.toFixed(1)} ms wall for ${(r.totalNs / 1e6).toFixed(1)} ms of virtual migration ` +
    `(${r.rounds.length} rounds, dirty per round ${r.rounds.map((x) => x.dirtyAfter).join('/')}, ${r.pagesSent} pages, downtime ${(r.downtimeNs / 1e6).toFixed(2)} ms, ${r.remoteFaults} remote faults)`);
  a.release();
  b.release();
}

snapshotFigures();
migrationFigures('precopy');
migrationFigures('postcopy');
migrationFigures('precopy', true);
