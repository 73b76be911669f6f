// Reading the image for `vizor run`: a binary file as is, or an .asm file assembled by vizor's own
// assembler (loaded on demand, so `run` works for binaries even before the assembler exists).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { BootMode } from '../machine/machine.ts';
import { detectBootMode } from '../machine/boot/load.ts';

export class ImageError extends Error {}

/** The message (with its newline) for an image that could not be read or assembled. */
export function imageErrorText(file: string, err: ImageError): string {
  // Assembly errors name file:line:column themselves.
  return err.cause === 'assembly' ? `${err.message}\n` : `vizor: ${file}: ${err.message}\n`;
}

/** readImage for a command: null after writing the reason to `stderr` (exit status 4 then). */
export async function readImageOrSay(file: string, stderr: (text: string) => void): Promise<Uint8Array | null> {
  try {
    return await readImage(file);
  } catch (err) {
    if (err instanceof ImageError) {
      stderr(imageErrorText(file, err));
      return null;
    }
    throw err;
  }
}

/**
 * How to boot `image`: the mode chosen on the command line or the detected one (BootError when
 * it cannot be told). A Multiboot kernel's command line defaults to the path and a space, as
 * QEMU's -kernel passes it.
 */
export function bootModeFor(image: Uint8Array, path: string, chosen?: BootMode, cmdline?: string): BootMode {
  const mode = chosen ?? detectBootMode(image);
  return mode.kind === 'multiboot' && mode.cmdline === undefined ? { kind: 'multiboot', cmdline: cmdline ?? `${path} ` } : mode;
}

export async function readImage(file: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new ImageError(`cannot read: ${why}`);
  }
  if (!/\.(asm|s|nasm)$/i.test(file)) return bytes;
  return assembleFile(file, new TextDecoder().decode(bytes));
}

async function assembleFile(file: string, source: string): Promise<Uint8Array> {
  type AsmModule = typeof import('../asm/index.ts');
  let asm: AsmModule;
  try {
    asm = (await import('../asm/index.ts')) as AsmModule;
  } catch {
    throw new ImageError('the assembler is not available yet: assemble with nasm -f bin and run the binary');
  }
  const base = dirname(resolve(file));
  const result = asm.assemble(source, {
    fileName: file,
    provider: {
      read(path: string) {
        try {
          return new Uint8Array(readFileSync(resolve(base, path)));
        } catch {
          return undefined;
        }
      },
    },
  });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const lines = errors.slice(0, 20).map((d) => `${d.file}:${d.line}:${d.column}: error: ${d.message}`);
    if (errors.length > 20) lines.push(`(${errors.length - 20} more errors)`);
    throw new ImageError(lines.join('\n'), { cause: 'assembly' });
  }
  return result.bytes;
}
