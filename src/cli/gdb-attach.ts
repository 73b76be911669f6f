// `vizor run ... --gdb PORT`: wait for GDB on PORT and let it drive the machine through the
// debugger engine. Returns the exit status `vizor run` should end with.
import type { Machine } from '../machine/machine.ts';
import { Debugger, type DebuggerOptions } from '../debug/debugger.ts';
import type { StopInfo } from '../debug/types.ts';
import { listenGdb } from '../gdb/server.ts';

export interface ServeGdbOptions extends DebuggerOptions {
  /** Where progress messages go (default: stderr). */
  log?: (line: string) => void;
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Instruction limit for the run after GDB detaches (default 2,000,000,000). */
  maxInstructions?: number;
  /**
   * Where the guest's console output goes. Give the Machine no `serial` callback when using this:
   * going back in time replays instructions, and the machine would print their output again;
   * this prints each byte once, the first time the guest writes it.
   */
  output?: (text: string) => void;
  /** Called once listening, with the port bound (pass port 0 to let the system choose). */
  onListening?: (port: number) => void;
  /** Print every packet (VIZOR_GDB_DEBUG=1 does the same). */
  tracePackets?: boolean;
}

/** Exit status for how the machine ended, as `vizor run` reports it. */
export function exitStatus(stop: StopInfo): number {
  switch (stop.reason) {
    case 'exited': return (((stop.exitCode ?? 0) << 1) | 1) & 0xff;
    case 'triple-fault': return 6;
    case 'halted': return 10;
    case 'budget': return 8;
    default: return 0;
  }
}

export async function serveGdb(machine: Machine, port: number, options: ServeGdbOptions = {}): Promise<number> {
  const log = options.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const dbg = new Debugger(machine, options);
  dbg.onOutput = options.output;
  const trace = options.tracePackets || process.env.VIZOR_GDB_DEBUG === '1';
  let server;
  try {
    server = await listenGdb(dbg, port, { host: options.host, log: trace ? log : undefined });
  } catch (err) {
    log(`vizor: cannot listen on port ${port}: ${(err as Error).message}`);
    return 2;
  }
  log(`vizor: waiting for gdb on ${options.host ?? '127.0.0.1'}:${server.port} (target remote :${server.port})`);
  options.onListening?.(server.port);
  const end = await server.ended;
  switch (end.how) {
    case 'exited':
      return exitStatus(end.stop);
    case 'kill':
      log('vizor: killed by gdb');
      return 0;
    case 'detach':
    case 'closed': {
      // GDB let go: the machine runs on freely (hook-free, no history), to its own end; the
      // debugger stays subscribed only to pass console output on.
      machine.cpu.hooks = null;
      let left = options.maxInstructions ?? 2_000_000_000;
      for (;;) {
        const before = machine.cpu.instructions;
        const r = machine.run(Math.min(left, 50_000_000));
        left -= machine.cpu.instructions - before;
        if (r.reason === 'debug-exit') return ((r.code << 1) | 1) & 0xff;
        if (r.reason === 'triple-fault') return 6;
        if (r.reason === 'halted') return 10;
        if (left <= 0) return 8;
        await new Promise((res) => setImmediate(res));
      }
    }
  }
}
