// The `vizor` command: dispatches to one module per subcommand, loaded on demand.
// Each subcommand module exports `command(args: string[]): Promise<number>` returning the exit status.

const USAGE = `usage: vizor <command> [options]

commands:
  asm     in.asm [-o out.bin] [-l listing.lst] [--map map.json]   assemble (NASM dialect)
  disasm  in.bin [--bits 16|32] [--org ADDR]                       disassemble (NASM syntax)
  run     image|in.asm [--boot-sector|--multiboot|--flat ADDR|--rom] [--mem SIZE]
          [--max-instructions N] [--trace FILE] [--vga] [--gdb PORT] ...   run a kernel; serial to stdout
  run     --hv image|in.asm [--vms N | --vm IMAGE ...] [--cpu vtx|deprivilege|bt]
          [--paging shadow|nested] [--sched rr|credit] ...                 run guests under the hypervisor
  run     image|in.asm [--hv] --save-at N file.vzs | --restore file.vzs    snapshot and resume
          (vizor run --help lists every option and the modes that take it)
  migrate image [--bandwidth 100M] [--latency 1ms] [--precopy|--postcopy] [--max-rounds N]
          [--max-downtime 300ms] [--at N] [--paging shadow|nested]   live-migrate a VM between two hosts
  trace   summary file.ndjson                                      summarise a recorded trace
  lesson  list | show NAME [--answers] | check NAME|--all [--hv]   the seminar's lessons
  bench                                                            print the benchmarks' figures
`;

type Command = { command(args: string[]): Promise<number> };

const COMMANDS: Record<string, () => Promise<Command>> = {
  asm: () => import('./asm.ts'),
  disasm: () => import('./disasm.ts'),
  run: () => import('./run.ts'),
  trace: () => import('./trace.ts'),
  lesson: () => import('./lesson.ts'),
  migrate: () => import('./migrate.ts'),
  bench: () => import('./bench.ts'),
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`vizor: unknown command '${name}'\n\n${USAGE}`);
    return 2;
  }
  try {
    return await (await load()).command(rest);
  } catch (err) {
    // Subcommands report expected failures themselves; anything reaching here is a bug in vizor,
    // but the user still gets one clear line, never a stack trace (VIZOR_DEBUG=1 shows it).
    const msg = err instanceof Error ? err.message : String(err);
    process.stderr.write(`vizor ${name}: internal error: ${msg}\n`);
    if (process.env.VIZOR_DEBUG) console.error(err);
    return 70;
  }
}
