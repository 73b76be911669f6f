// `vizor migrate image`: two simulated hosts, each with its own hypervisor, joined by a link of
// the given bandwidth and latency (virtual time). The VM boots on host A, runs --at instructions,
// and moves to host B live (pre-copy rounds, or post-copy); then it runs to its end on host B.
// stdout is the guest's serial output, continuous across the move (identical to `vizor run`'s);
// the migration's report (rounds, dirty pages, downtime) goes to stderr, its events to --events.
import { closeSync, openSync, readSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { BootError, type BootMode } from '../machine/machine.ts';
import { Hypervisor, type CpuTechnique, type PagingTechnique } from '../hypervisor/index.ts';
import { driveVm } from '../migration/driver.ts';
import { Migration, type MigrationResult } from '../migration/engine.ts';
import { parseBandwidth, parseDuration } from '../migration/link.ts';
import { HostMerger } from '../migration/trace-merge.ts';
import { createTraceSink, headerLine, parseKindList, type EventKind } from '../trace/index.ts';
import { encodePageMap, pageMapOf, type PageMapText } from '../migration/page-map.ts';
import type { Emitter } from '../trace/emitter.ts';
import { address, parseCount, memorySize } from './args.ts';
import { CPU, PAGING } from './run-options.ts';
import { bootModeFor, readImageOrSay } from './image.ts';
import type { SnapshotIo } from './snapshot.ts';
import { hostMemoryFor, vmStatus } from './hv.ts';

export const MIGRATE_USAGE = `usage: vizor migrate image|file.asm [options]

Boots the image as a VM on host A, runs it for --at instructions, migrates it live to host B
over a simulated link, and runs it to its end there. Serial output goes to stdout (it continues
across the move unchanged); the migration report goes to stderr.
  --at N               start migrating after N instructions of the guest (default 1000000)
  --bandwidth RATE     link bandwidth in bits/s: 100M, 1G, 10M (default 100M)
  --latency TIME       one-way link latency: 1ms, 200us (default 1ms)
  --precopy            iterative pre-copy, then stop-and-copy (the default)
  --postcopy           resume on B at once and fetch pages over the link on first touch
  --max-rounds N       pre-copy rounds before stop-and-copy is forced (default 30)
  --max-downtime TIME  stop-and-copy once the dirty pages fit this downtime (default 300ms, as QEMU)
  --paging shadow|nested, --cpu vtx|deprivilege|bt   the hypervisors' techniques (default shadow, vtx)
  --mem SIZE           guest memory (default 64M)
  --max-instructions N stop the guest after N instructions in all (default 2,000,000,000)
  --events FILE        the migration's events, one JSON object per line
  --trace FILE         both hosts' event stream as one NDJSON trace (migration and console events;
                       --trace-kinds migration,console,exit,... to choose)
  --multiboot | --flat ADDR   how to load (default: detected)

Exit status: as for vizor run --hv ((v<<1)|1 after debug-exit v ...); 2 usage, 4 bad image.
`;

interface MigrateOptions {
  file: string; at: number; bandwidth: number; latency: number; mode: 'precopy' | 'postcopy';
  maxRounds: number; maxDowntime: number; paging: PagingTechnique; cpu: CpuTechnique; memoryBytes: number;
  maxInstructions: number; events?: string; boot?: BootMode; trace?: string; traceKinds?: EventKind[];
}

export function parseMigrateArgs(args: string[]): MigrateOptions | string {
  const o: Partial<MigrateOptions> = {
    at: 1_000_000, bandwidth: 100e6, latency: 1e6, mode: 'precopy', maxRounds: 30, maxDowntime: 300e6,
    paging: 'shadow', cpu: 'vtx', memoryBytes: 64 << 20, maxInstructions: 2_000_000_000,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const v = (): string | null => args[++i] ?? null;
    const bad = (what: string, got: string | null) => `${a} takes ${what}${got === null ? '' : `, not '${got}'`}`;
    switch (a) {
      case '--at': case '--max-rounds': case '--max-instructions': {
        const t = v(), n = t === null ? null : parseCount(t);
        if (n === null) return bad('a positive count', t);
        if (a === '--at') o.at = n; else if (a === '--max-rounds') o.maxRounds = n; else o.maxInstructions = n;
        break;
      }
      case '--bandwidth': { const t = v(), n = t === null ? null : parseBandwidth(t); if (n === null) return bad('a rate in bits/s such as 100M or 1G', t); o.bandwidth = n; break; }
      case '--latency': case '--max-downtime': {
        const t = v(), n = t === null ? null : parseDuration(t);
        if (n === null) return bad('a time such as 1ms or 200us', t);
        if (a === '--latency') o.latency = n; else o.maxDowntime = n;
        break;
      }
      case '--precopy': o.mode = 'precopy'; break;
      case '--postcopy': o.mode = 'postcopy'; break;
      case '--paging': { const t = v(), p = t === null ? null : PAGING.parse(t); if (p === null) return bad(PAGING.expects, t); o.paging = p; break; }
      case '--cpu': { const t = v(), c = t === null ? null : CPU.parse(t); if (c === null) return bad(CPU.expects, t); o.cpu = c; break; }
      case '--mem': {
        const t = v(), n = t === null ? null : memorySize.parse(t);
        if (n === null) return bad(memorySize.expects, t);
        o.memoryBytes = n;
        break;
      }
      case '--events': { const t = v(); if (t === null) return bad('a file', t); o.events = t; break; }
      case '--trace': { const t = v(); if (t === null) return bad('a file', t); o.trace = t; break; }
      case '--trace-kinds': {
        const t = v();
        if (t === null) return bad('a list of event kinds', t);
        const parsed = parseKindList(t);
        if ('unknown' in parsed) return `--trace-kinds: unknown event kind(s) ${parsed.unknown.join(', ')}`;
        o.traceKinds = parsed.kinds;
        break;
      }
      case '--multiboot': o.boot = { kind: 'multiboot' }; break;
      case '--flat': {
        const t = v(), n = t === null ? null : address.parse(t);
        if (n === null) return bad(address.expects, t);
        o.boot = { kind: 'flat', address: n };
        break;
      }
      default:
        if (a.startsWith('-')) return `unknown option '${a}'`;
        if (o.file !== undefined) return `only one image, got '${o.file}' and '${a}'`;
        o.file = a;
    }
  }
  if (o.file === undefined) return 'no image given';
  if (o.traceKinds !== undefined && o.trace === undefined) return '--trace-kinds needs --trace';
  return o as MigrateOptions;
}

const ms = (ns: number) => `${(ns / 1e6).toFixed(3)} ms`;

/** The human summary: one line per round, then the switch-over. */
export function describeMigration(r: MigrationResult): string {
  const lines = [`migration (${r.mode}):`];
  for (const x of r.rounds) lines.push(`  round ${x.round}: sent ${x.pagesSent} pages in ${ms(x.durationNs)}, ${x.dirtyAfter} dirtied meanwhile`);
  if (r.mode === 'precopy') {
    const why = r.switchover === 'converged' ? 'the dirty set fits the downtime limit' : r.switchover === 'round-limit' ? 'round limit reached: the guest dirties memory faster than the link sends it' : 'the guest ended during pre-copy';
    lines.push(`  stop-and-copy (${why}): ${r.finalPages} pages + ${r.stateBytes} bytes of CPU and device state`);
    lines.push(`  dirty tracking: ${r.protectionExits} writes to write-protected pages exited to the VMM`);
  } else {
    lines.push(`  CPU and device state first (${r.stateBytes} bytes); ${r.remoteFaults} pages fetched on first touch (vCPU waited ${ms(r.stallNs)}), the rest pushed in the background`);
  }
  lines.push(`  downtime ${ms(r.downtimeNs)}; ${r.pagesSent} pages, ${r.bytesSent} bytes over the link; done after ${ms(r.totalNs)}`);
  if (r.sourceChecksum !== undefined) lines.push(`  guest memory checksum: source ${r.sourceChecksum.toString(16)}, destination ${r.destChecksum!.toString(16)}${r.sourceChecksum === r.destChecksum ? ' (equal)' : ' (DIFFERENT)'}`);
  return lines.join('\n') + '\n';
}

export async function command(args: string[], io: SnapshotIo = { stdout: (t) => { writeSync(1, t); }, stderr: (t) => { writeSync(2, t); } }): Promise<number> {
  const out = io.stdout, err = io.stderr;
  if (args.includes('-h') || args.includes('--help')) { out(MIGRATE_USAGE); return 0; }
  const o = parseMigrateArgs(args);
  if (typeof o === 'string') { err(`vizor migrate: ${o}\n${MIGRATE_USAGE}`); return 2; }
  const image = await readImageOrSay(o.file, err);
  if (image === null) return 4;
  let boot: BootMode;
  try {
    boot = bootModeFor(image, o.file, o.boot);
  } catch (e) {
    if (e instanceof BootError) { err(`vizor: ${o.file}: ${e.message}\n`); return 4; }
    throw e;
  }
  const hostBytes = hostMemoryFor(1, o.memoryBytes)!; // --mem is at most MEM_MAX, which fits
  const hostA = new Hypervisor({ hostMemoryBytes: hostBytes }), hostB = new Hypervisor({ hostMemoryBytes: hostBytes });
  const config = { name: 'vm0', image, boot, memoryBytes: o.memoryBytes, cpu: o.cpu, paging: o.paging, serial: out };
  const trace = o.trace === undefined ? null : openTrace(o, [hostA.emitter, hostB.emitter]);
  try {
    let src;
    try {
      src = hostA.addVm(config);
    } catch (e) {
      if (e instanceof BootError) { err(`vizor: ${o.file}: ${e.message}\n`); return 4; }
      throw e;
    }
    if (driveVm(hostA, src, { instructions: Math.min(o.at, o.maxInstructions) }) === 'ended' || o.at >= o.maxInstructions) {
      if (src.state !== 'exited') src.finish({ reason: 'instruction-limit' });
      err(`vizor: the guest ended after ${src.cpu.instructions} instructions, before the migration point (--at ${o.at}): nothing migrated\n`);
      return vmStatus(src);
    }
    const m = new Migration(hostA, src, hostB, {
      link: { bandwidthBitsPerSecond: o.bandwidth, latencyNs: o.latency }, mode: o.mode, maxRounds: o.maxRounds, maxDowntimeNs: o.maxDowntime,
    });
    const r = m.run(config);
    if (trace !== null) trace.pages = encodePageMap(pageMapOf(r.events, o.memoryBytes / 4096));
    err(describeMigration(r));
    if (o.events !== undefined) writeFileSync(o.events, r.events.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const dst = m.dst!;
    if (driveVm(hostB, dst, { instructions: o.maxInstructions }) === 'reached') dst.finish({ reason: 'instruction-limit' });
    if (dst.end !== null && dst.end.reason !== 'debug-exit') err(`vizor: ${dst.name}: ${dst.describeEnd()}\n`);
    return vmStatus(dst);
  } finally {
    trace?.close();
    hostA.release();
    hostB.release();
  }
}

/**
 * The merged NDJSON trace of both hosts (see HostMerger). The events are spooled to FILE.part
 * while the hosts run; close() writes FILE: the header, whose params.pages says which guest pages
 * each round moved (src/migration/page-map.ts, known only at the end), then the events.
 */
function openTrace(o: MigrateOptions, emitters: Emitter[]): { pages?: PageMapText; close(): void } {
  const part = `${o.trace!}.part`;
  const fd = openSync(part, 'w');
  const params: Record<string, unknown> = {
    image: o.file, command: 'migrate', hosts: ['A', 'B'], migration: o.mode, at: o.at, bandwidthBitsPerSecond: o.bandwidth,
    latencyNs: o.latency, maxRounds: o.maxRounds, maxDowntimeNs: o.maxDowntime, paging: o.paging, cpu: o.cpu, memoryBytes: o.memoryBytes,
  };
  const sink = createTraceSink({ format: 'ndjson', kinds: o.traceKinds ?? ['migration', 'console'], params, write: (s) => { writeSync(fd, s); } });
  const merger = new HostMerger(sink.listener);
  const stops = emitters.map((e) => merger.attach(e));
  const trace: { pages?: PageMapText; close(): void } = {
    close() {
      for (const stop of stops) stop();
      sink.close();
      closeSync(fd);
      const out = openSync(o.trace!, 'w'), from = openSync(part, 'r');
      try {
        writeSync(out, headerLine(trace.pages === undefined ? params : { ...params, pages: trace.pages }) + '\n');
        const buf = Buffer.alloc(1 << 20);
        let header = true;
        for (let n; (n = readSync(from, buf, 0, buf.length, null)) > 0; ) {
          let start = 0;
          if (header) {
            const nl = buf.subarray(0, n).indexOf(10);
            if (nl < 0) continue; // still inside the spooled header line
            start = nl + 1;
            header = false;
          }
          writeSync(out, buf, start, n - start);
        }
      } finally {
        closeSync(from);
        closeSync(out);
        unlinkSync(part);
      }
    },
  };
  return trace;
}
