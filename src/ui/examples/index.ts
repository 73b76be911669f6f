// The programs the app can open without a lesson: the default is the hello kernel.
import hello from './hello.asm?raw';
import type { SourceFile } from '../../worker/protocol.ts';

export interface Example {
  title: string;
  main: string;
  files: SourceFile[];
}

export const EXAMPLES: Example[] = [{ title: 'Hello, serial port (Multiboot kernel)', main: 'hello.asm', files: [{ name: 'hello.asm', text: hello }] }];

export const DEFAULT_EXAMPLE = EXAMPLES[0];
