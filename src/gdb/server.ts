// The GDB stub over TCP: listen on a port, accept one GDB connection, run a GdbSession on it.
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Debugger } from '../debug/debugger.ts';
import { GdbSession, type SessionEnd, type StubOptions } from './stub.ts';

export interface GdbServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  /** Resolves when the first session ends (k, D, the guest exited or GDB went away). */
  ended: Promise<SessionEnd>;
  close(): void;
}

/** Listens on host:port and serves the first GDB that connects. */
export function listenGdb(dbg: Debugger, port: number, options: StubOptions & { host?: string } = {}): Promise<GdbServer> {
  return new Promise((resolve, reject) => {
    let socket: Socket | undefined;
    let resolveEnded!: (e: SessionEnd) => void;
    const ended = new Promise<SessionEnd>((r) => (resolveEnded = r));
    const server: Server = createServer((s) => {
      if (socket) {
        s.end(); // one debugger at a time
        return;
      }
      socket = s;
      s.setNoDelay(true);
      const session = new GdbSession(dbg, (data) => s.write(Buffer.from(data, 'latin1')), options);
      s.on('data', (chunk: Buffer) => session.receive(chunk.toString('latin1')));
      s.on('close', () => session.closed());
      s.on('error', () => session.closed());
      void session.ended.then((e) => {
        server.close();
        // Let the last reply (OK, W..) reach GDB before closing.
        s.end();
        resolveEnded(e);
      });
    });
    server.once('error', reject);
    server.listen(port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        ended,
        close: () => {
          socket?.destroy();
          server.close();
        },
      });
    });
  });
}
