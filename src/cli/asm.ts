// `vizor asm in.asm [-o out.bin] [-l listing.lst] [--map map.json] [-D NAME[=VALUE]] [-I DIR]`:
// assembles NASM-dialect source into a flat binary, like `nasm -f bin`.
// Exit status: 0 assembled, 1 the source has errors (each printed as file:line:column), 2 usage,
// 4 the input or an output file cannot be read or written.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { assemble, type Diagnostic, type FileProvider } from '../asm/index.ts';

const USAGE = 'usage: vizor asm in.asm [-o out.bin] [-l listing.lst] [--map map.json] [-D NAME[=VALUE]] [-I DIR]\n';

interface Options {
  input: string;
  output?: string;
  listing?: string;
  map?: string;
  defines: Record<string, string>;
  includeDirs: string[];
}

function parseArgs(args: string[]): Options | string {
  const o: Options = { input: '', defines: {}, includeDirs: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = (): string | undefined => args[++i];
    if (a === '-o' || a === '-l' || a === '--map' || a === '-I') {
      const v = value();
      if (v === undefined) return `${a} needs a file name`;
      if (a === '-o') o.output = v;
      else if (a === '-l') o.listing = v;
      else if (a === '--map') o.map = v;
      else o.includeDirs.push(v);
    } else if (a.startsWith('-D') && a.length > 2) {
      const [k, ...rest] = a.slice(2).split('=');
      o.defines[k!] = rest.join('=');
    } else if (a.startsWith('-I') && a.length > 2) o.includeDirs.push(a.slice(2));
    else if (a === '-f') {
      if (value() !== 'bin') return 'only the flat binary format (-f bin) is supported';
    } else if (a.startsWith('-')) return `unknown option '${a}'`;
    else if (o.input) return `one input file only (got '${o.input}' and '${a}')`;
    else o.input = a;
  }
  if (!o.input) return 'no input file';
  return o;
}

function fileProvider(base: string, includeDirs: string[]): FileProvider {
  return {
    read(path: string) {
      const candidates = path.startsWith('/') ? [path] : [resolve(path), join(base, path), ...includeDirs.map((d) => join(d, path))];
      for (const c of candidates) {
        try {
          if (existsSync(c) && statSync(c).isFile()) return new Uint8Array(readFileSync(c));
        } catch {
          // unreadable: try the next place
        }
      }
      return undefined;
    },
  };
}

/** `file:line:column: error: message`, then the source line and a caret under the column. */
function formatDiagnostic(d: Diagnostic, read: (file: string) => string | undefined): string {
  let text = `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}\n`;
  const src = read(d.file)?.split(/\r?\n/)[d.line - 1];
  if (src !== undefined && src.trim() !== '') {
    const shown = src.replace(/\t/g, ' ');
    text += `    ${shown}\n    ${' '.repeat(Math.max(0, d.column - 1))}^\n`;
  }
  return text;
}

export async function command(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const opts = parseArgs(args);
  if (typeof opts === 'string') {
    process.stderr.write(`vizor asm: ${opts}\n${USAGE}`);
    return 2;
  }
  let source: string;
  try {
    source = readFileSync(opts.input, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : String(code ?? err);
    process.stderr.write(`vizor asm: cannot read '${opts.input}': ${why}\n`);
    return 4;
  }
  const provider = fileProvider(dirname(opts.input), opts.includeDirs);
  const result = assemble(source, { fileName: opts.input, provider, defines: opts.defines });
  const cache = new Map<string, string | undefined>();
  const read = (f: string) => {
    if (!cache.has(f)) {
      const data = f === opts.input ? source : provider.read(f);
      cache.set(f, data === undefined ? undefined : typeof data === 'string' ? data : new TextDecoder().decode(data));
    }
    return cache.get(f);
  };
  let out = '';
  for (const d of result.diagnostics) out += formatDiagnostic(d, read);
  process.stderr.write(out);
  const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
  try {
    if (opts.listing) writeFileSync(opts.listing, result.listing());
    if (errors > 0) {
      process.stderr.write(`vizor asm: ${errors} error${errors === 1 ? '' : 's'}; no output written\n`);
      return 1;
    }
    const output = opts.output ?? opts.input.replace(/\.[^./]*$/, '') + (opts.input.match(/\.[^./]*$/) ? '' : '.bin');
    writeFileSync(output, result.bytes);
    if (opts.map) writeFileSync(opts.map, JSON.stringify(result.map, null, 1) + '\n');
  } catch (err) {
    process.stderr.write(`vizor asm: cannot write output: ${(err as Error).message}\n`);
    return 4;
  }
  return 0;
}
