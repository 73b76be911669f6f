// Share links: the program's sources (inputs only, never results) deflated into the URL fragment,
// so a link opens exactly that program and nothing is sent to any server.
import type { MachineConfig, SourceFile } from '../../worker/protocol.ts';

export interface SharedProject {
  version: 1;
  main: string;
  files: SourceFile[];
  /** How to boot it (memory, boot mode, bare or hypervisor): a boot sector needs its boot mode. */
  machine?: MachineConfig;
}

async function pump(input: Uint8Array, stream: CompressionStream | DecompressionStream): Promise<Uint8Array> {
  const body = new Blob([input as BlobPart]).stream().pipeThrough(stream);
  return new Uint8Array(await new Response(body).arrayBuffer());
}

export function toBase64Url(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function fromBase64Url(text: string): Uint8Array {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/** The fragment (without '#') that carries the project: `code=` + base64url(deflate-raw(JSON)). */
export async function encodeShare(project: Omit<SharedProject, 'version'>): Promise<string> {
  const json = JSON.stringify({ version: 1, main: project.main, files: project.files, machine: project.machine });
  return `code=${toBase64Url(await pump(new TextEncoder().encode(json), new CompressionStream('deflate-raw')))}`;
}

/** Reads a fragment made by encodeShare; null when it carries no project; throws with a clear message when it is damaged. */
export async function decodeShare(fragment: string): Promise<SharedProject | null> {
  const m = /(?:^#?|&)code=([A-Za-z0-9_-]+)/.exec(fragment);
  if (!m) return null;
  let json: string;
  try {
    json = new TextDecoder().decode(await pump(fromBase64Url(m[1]), new DecompressionStream('deflate-raw')));
  } catch {
    throw new Error('this share link is damaged (it may have been cut short when it was copied)');
  }
  const p = JSON.parse(json) as SharedProject;
  if (p.version !== 1 || !Array.isArray(p.files) || !p.files.every((f) => typeof f.name === 'string' && typeof f.text === 'string')) {
    throw new Error('this share link was made by another version of vizor');
  }
  return p;
}
