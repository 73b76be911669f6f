// A GDB remote stub session over the debugger engine. Transport-agnostic: feed it the bytes GDB
// sends (`receive`), give it a `send` function. Running commands (c, s, vCont, bc) execute in
// chunks scheduled with setImmediate, so Ctrl-C (0x03) is read while the guest runs.
import type { Debugger } from '../debug/debugger.ts';
import type { StopInfo } from '../debug/types.ts';
import { fromHex, fromLatin1, frame, PacketReader, toHex } from './packet.ts';
import { allRegistersHex, registerHex, registerPatch, splitRegisters, TARGET_XML } from './target.ts';

export interface StubOptions {
  /** Instructions per chunk while running (Ctrl-C latency vs overhead). */
  chunk?: number;
  /** Called with each packet in and out when debugging the stub itself. */
  log?: (line: string) => void;
}

/** How the session ended: GDB killed the target, detached, or the guest finished. */
export type SessionEnd = { how: 'kill' } | { how: 'detach' } | { how: 'closed' } | { how: 'exited'; stop: StopInfo };

const SIGINT = 2;
const SIGTRAP = 5;
const SIGSEGV = 11;

export class GdbSession {
  private readonly reader = new PacketReader();
  private noAck = false;
  private startNoAck = false;
  /** Engine ids of Z0 (software) breakpoints: their stops say swbreak, Z1's say hwbreak. */
  private readonly softIds = new Set<number>();
  private running = false;
  private interruptRequested = false;
  private lastStop = `T${hex2(SIGTRAP)}thread:01;`;
  private readonly points = new Map<string, number>();
  private finished = false;
  /** Resolves when the session is over. */
  readonly ended: Promise<SessionEnd>;
  private resolveEnd!: (e: SessionEnd) => void;

  constructor(
    readonly dbg: Debugger,
    private readonly send: (data: string) => void,
    private readonly options: StubOptions = {},
  ) {
    this.ended = new Promise((r) => (this.resolveEnd = r));
  }

  /** Bytes from GDB (latin1 string). */
  receive(data: string): void {
    for (const ev of this.reader.feed(data)) {
      if (ev.type === 'interrupt') {
        if (this.running) this.interruptRequested = true;
      } else if (ev.type === 'bad-checksum') {
        if (!this.noAck) this.send('-');
      } else if (ev.type === 'packet') {
        if (!this.noAck) this.send('+');
        this.options.log?.(`<- ${ev.payload.slice(0, 200)}`);
        const reply = this.handle(ev.payload);
        if (reply !== undefined) this.reply(reply);
        if (this.startNoAck) this.noAck = true;
      }
    }
  }

  /** The connection closed without k or D. */
  closed(): void {
    this.end({ how: 'closed' });
  }

  private reply(payload: string): void {
    this.options.log?.(`-> ${payload.slice(0, 200)}`);
    this.send(frame(payload));
  }

  private end(e: SessionEnd): void {
    if (this.finished) return;
    this.finished = true;
    this.running = false;
    this.resolveEnd(e);
  }

  /** Handles one packet; undefined means the reply comes later (a run) or never (k). */
  private handle(p: string): string | undefined {
    const d = this.dbg;
    if (this.running) return undefined; // GDB sends nothing but 0x03 while the target runs
    switch (p[0]) {
      case '?':
        return this.lastStop;
      case 'g':
        return allRegistersHex(d.cpuState());
      case 'G':
        return this.writeAll(p.slice(1));
      case 'p': {
        const v = registerHex(d.cpuState(), parseInt(p.slice(1), 16));
        return v ?? 'E45';
      }
      case 'P': {
        const [n, val] = p.slice(1).split('=');
        const patch = registerPatch(parseInt(n!, 16), val ?? '', d.cpuState());
        if (patch && Object.keys(patch).length > 0) d.writeRegisters(patch);
        return 'OK';
      }
      case 'm': {
        const [addr, len] = p.slice(1).split(',').map((x) => parseInt(x, 16));
        const r = d.readMemory(addr!, Math.min(len!, 0x10000));
        return r.ok ? toHex(r.bytes) : 'E14';
      }
      case 'M': {
        const [head, data] = splitOnce(p.slice(1), ':');
        const [addr] = head.split(',').map((x) => parseInt(x, 16));
        return d.writeMemory(addr!, fromHex(data)) ? 'OK' : 'E14';
      }
      case 'X': {
        const [head, data] = splitOnce(p.slice(1), ':');
        const [addr, len] = head.split(',').map((x) => parseInt(x, 16));
        if (len === 0) return 'OK';
        return d.writeMemory(addr!, fromLatin1(data)) ? 'OK' : 'E14';
      }
      case 'c':
      case 'C':
        return this.resume('continue', p);
      case 's':
      case 'S':
        return this.resume('step', p);
      case 'b':
        if (p === 'bs') return this.resume('back', p);
        if (p === 'bc') return this.resume('reverse', p);
        return '';
      case 'Z':
      case 'z':
        return this.breakpoint(p);
      case 'H':
        return 'OK';
      case 'T':
        return 'OK';
      case 'k':
        this.end({ how: 'kill' });
        return undefined;
      case 'D':
        this.reply('OK');
        this.end({ how: 'detach' });
        return undefined;
      case 'q':
      case 'Q':
        return this.query(p);
      case 'v':
        return this.vPacket(p);
      default:
        return '';
    }
  }

  private query(p: string): string {
    if (p.startsWith('qSupported')) {
      return 'PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;ReverseStep+;ReverseContinue+;QStartNoAckMode+;vContSupported+';
    }
    if (p === 'QStartNoAckMode') {
      this.startNoAck = true; // after this reply has been acknowledged
      return 'OK';
    }
    if (p.startsWith('qXfer:features:read:')) {
      const m = /^qXfer:features:read:([^:]+):([0-9a-fA-F]+),([0-9a-fA-F]+)$/.exec(p);
      if (!m || m[1] !== 'target.xml') return 'E00';
      const off = parseInt(m[2]!, 16);
      const len = parseInt(m[3]!, 16);
      const chunk = TARGET_XML.slice(off, off + len);
      return (off + len >= TARGET_XML.length ? 'l' : 'm') + chunk;
    }
    if (p === 'qAttached') return '1';
    if (p === 'qC') return 'QC01';
    if (p === 'qfThreadInfo') return 'm01';
    if (p === 'qsThreadInfo') return 'l';
    if (p.startsWith('qSymbol')) return 'OK';
    if (p === 'qOffsets') return 'Text=0;Data=0;Bss=0';
    return '';
  }

  private vPacket(p: string): string | undefined {
    if (p === 'vCont?') return 'vCont;c;C;s;S';
    if (p.startsWith('vCont;')) {
      // One thread: the first action decides (GDB sends e.g. vCont;s:1;c or vCont;c).
      const action = p.slice(6).split(';')[0]![0];
      if (action === 'c' || action === 'C') return this.resume('continue', p);
      if (action === 's' || action === 'S') return this.resume('step', p);
      return 'E01';
    }
    if (p === 'vKill' || p.startsWith('vKill;')) {
      this.reply('OK');
      this.end({ how: 'kill' });
      return undefined;
    }
    if (p === 'vMustReplyEmpty') return '';
    return '';
  }

  private writeAll(hex: string): string {
    const s = this.dbg.cpuState();
    const patch = {};
    splitRegisters(hex).forEach((h, n) => Object.assign(patch, registerPatch(n, h, s) ?? {}));
    if (Object.keys(patch).length > 0) this.dbg.writeRegisters(patch);
    return 'OK';
  }

  /** Z/z type,addr,kind: 0/1 code breakpoints, 2 write, 3 read, 4 access watchpoints. */
  private breakpoint(p: string): string {
    const insert = p[0] === 'Z';
    const [type, addrHex, kindHex] = p.slice(1).split(';')[0]!.split(',');
    const t = Number(type);
    const addr = parseInt(addrHex!, 16) >>> 0;
    const len = parseInt(kindHex ?? '1', 16);
    if (!(t >= 0 && t <= 4)) return '';
    const key = `${t},${addr},${t >= 2 ? len : 0}`;
    if (!insert) {
      const id = this.points.get(key);
      if (id !== undefined) this.dbg.removeBreakpoint(id);
      this.points.delete(key);
      return 'OK';
    }
    if (this.points.has(key)) return 'OK';
    // Read/access watchpoints need the CPU's access reports: an empty reply says "not supported"
    // and GDB tells the user it cannot insert the watchpoint.
    if (t >= 3 && !this.dbg.cpuReportsAccesses) return '';
    const id =
      t <= 1
        ? this.dbg.addBreakpoint({ location: { kind: 'linear', address: addr } })
        : this.dbg.addWatchpoint({ kind: t === 2 ? 'write' : t === 3 ? 'read' : 'access', address: addr, length: Math.max(1, len) });
    this.points.set(key, id);
    if (t === 0) this.softIds.add(id);
    return 'OK';
  }

  private resume(what: 'continue' | 'step' | 'back' | 'reverse', p: string): undefined {
    // `c ADDR` / `s ADDR` resume at an address.
    const m = /^[cs]([0-9a-fA-F]+)$/.exec(p);
    if (m) this.dbg.writeRegisters({ eip: parseInt(m[1]!, 16) >>> 0 });
    this.running = true;
    this.interruptRequested = false;
    const chunk = this.options.chunk ?? 2_000_000;
    const tick = (): void => {
      if (this.finished) return;
      let stop: StopInfo;
      if (this.interruptRequested) stop = this.dbg.stopInfo({ reason: 'pause' });
      else if (what === 'step') stop = this.dbg.stepInto();
      else if (what === 'back') stop = this.dbg.stepBack();
      else if (what === 'reverse') stop = this.dbg.reverseContinue();
      else stop = this.dbg.continue(chunk);
      if (stop.reason === 'budget') {
        setImmediate(tick);
        return;
      }
      this.running = false;
      this.stopped(stop);
    };
    setImmediate(tick);
    return undefined;
  }

  private stopped(stop: StopInfo): void {
    if (stop.reason === 'exited') {
      this.reply(`W${hex2(((stop.exitCode ?? 0) << 1) | 1)}`);
      this.end({ how: 'exited', stop });
      return;
    }
    if (stop.reason === 'triple-fault') {
      this.reply(`X${hex2(SIGSEGV)}`);
      this.end({ how: 'exited', stop });
      return;
    }
    this.lastStop = stopReply(stop, stop.breakpointId !== undefined && this.softIds.has(stop.breakpointId));
    this.reply(this.lastStop);
  }
}

function stopReply(stop: StopInfo, soft: boolean): string {
  const sig = stop.reason === 'pause' ? SIGINT : SIGTRAP;
  let extra = '';
  if (stop.reason === 'watchpoint' && stop.watch) {
    const name = stop.watch.kind === 'write' ? 'watch' : stop.watch.kind === 'read' ? 'rwatch' : 'awatch';
    extra = `${name}:${stop.watch.address.toString(16)};`;
  } else if (stop.reason === 'breakpoint') extra = soft ? 'swbreak:;' : 'hwbreak:;';
  else if (stop.reason === 'history-start') extra = 'replaylog:begin;';
  return `T${hex2(sig)}${extra}thread:01;`;
}

function hex2(v: number): string {
  return (v & 0xff).toString(16).padStart(2, '0');
}

function splitOnce(s: string, sep: string): [string, string] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

