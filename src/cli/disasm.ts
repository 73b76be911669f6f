// `vizor disasm in.bin [--bits 16|32] [--org ADDR]`: prints an ndisasm-style listing
// (address, bytes, NASM-syntax text) of a flat binary, decoded with the shared opcode table.
import { readFileSync } from 'node:fs';
import { disassemble, formatListingLine } from '../x86/disasm.ts';
import { parseAddress } from './args.ts';

const USAGE = 'usage: vizor disasm in.bin [--bits 16|32] [--org ADDR]\n';

interface Options {
  file: string;
  bits: 16 | 32;
  org: number;
}

function parseArgs(args: string[]): Options | string {
  let file: string | undefined;
  let bits: 16 | 32 = 16;
  let org = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--bits' || a === '-b') {
      const v = args[++i];
      if (v !== '16' && v !== '32') return `--bits takes 16 or 32, not '${v ?? ''}'`;
      bits = v === '16' ? 16 : 32;
    } else if (a === '--org' || a === '-o') {
      const v = args[++i];
      const n = v === undefined ? null : parseAddress(v);
      if (n === null) return `--org takes an address such as 0x7c00, not '${v ?? ''}'`;
      org = n;
    } else if (a.startsWith('-')) {
      return `unknown option '${a}'`;
    } else if (file === undefined) {
      file = a;
    } else {
      return `one input file only (got '${file}' and '${a}')`;
    }
  }
  if (file === undefined) return 'no input file';
  return { file, bits, org };
}

export async function command(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    process.stderr.write(`vizor disasm: ${opts}\n${USAGE}`);
    return 2;
  }
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(opts.file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    process.stderr.write(`vizor disasm: cannot read '${opts.file}': ${why}\n`);
    return 4;
  }
  const out = disassemble(bytes, { bits: opts.bits, org: opts.org }).map(formatListingLine);
  process.stdout.write(out.length ? out.join('\n') + '\n' : '');
  return 0;
}
