// Synchronous writes to a file descriptor for the CLI's outputs (serial, traces, messages).
import { writeSync } from 'node:fs';

/**
 * Writes all of `buf` to `fd`. A full non-blocking pipe (EAGAIN) is waited out; a reader that went
 * away (`vizor run … | head`) is not an error: returns false, and the caller drops the rest.
 */
export function writeAllSync(fd: number, buf: Uint8Array): boolean {
  let off = 0;
  while (off < buf.length) {
    try {
      off += writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EAGAIN') continue;
      if (code === 'EPIPE') return false;
      throw err;
    }
  }
  return true;
}
