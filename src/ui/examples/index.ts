// The programs the app can open without a lesson: the default is the hello kernel.
import hello from './hello.asm?raw';
import pagefault from './pagefault.asm?raw';
import type { SourceFile } from '../../worker/protocol.ts';

export interface Example {
  id: string;
  title: string;
  main: string;
  files: SourceFile[];
}

export const EXAMPLES: Example[] = [
  { id: 'hello', title: 'Hello, serial port', main: 'hello.asm', files: [{ name: 'hello.asm', text: hello }] },
  { id: 'pagefault', title: 'A page fault', main: 'pagefault.asm', files: [{ name: 'pagefault.asm', text: pagefault }] },
];

export const DEFAULT_EXAMPLE = EXAMPLES[0];
