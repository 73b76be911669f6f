// The x86 / NASM language for Monaco: a Monarch tokenizer (highlighting) and the language
// configuration (comments, brackets). Pure data: no Monaco import, so it is testable on its own.
import { DIRECTIVES, MNEMONICS, PREFIX_WORDS, REGISTER_DOCS, SIZE_WORDS } from './docs.ts';

export const NASM_LANGUAGE_ID = 'nasm';

/** A minimal structural type of Monaco's IMonarchLanguage (so this file needs no Monaco import). */
export interface MonarchLanguage {
  ignoreCase: boolean;
  defaultToken: string;
  tokenPostfix: string;
  [key: string]: unknown;
  tokenizer: Record<string, unknown[]>;
}

export const nasmConfiguration = {
  comments: { lineComment: ';' },
  brackets: [['[', ']'], ['(', ')']] as [string, string][],
  autoClosingPairs: [
    { open: '[', close: ']' },
    { open: '(', close: ')' },
    { open: '"', close: '"', notIn: ['string', 'comment'] },
    { open: "'", close: "'", notIn: ['string', 'comment'] },
  ],
  wordPattern: /(\.?[A-Za-z_?$@][\w$#@~.?]*)|(-?\d[\w.]*)/,
};

export const nasmLanguage: MonarchLanguage = {
  ignoreCase: true,
  defaultToken: '',
  tokenPostfix: '.nasm',
  mnemonics: MNEMONICS,
  registers: Object.keys(REGISTER_DOCS).concat(['cr0', 'cr2', 'cr3', 'cr4', 'dr0', 'dr1', 'dr2', 'dr3', 'dr6', 'dr7']),
  directives: DIRECTIVES,
  sizes: SIZE_WORDS,
  prefixes: PREFIX_WORDS,
  tokenizer: {
    root: [
      [/;.*$/, 'comment'],
      // Preprocessor: %define, %macro, %if ..., and %1 / %% local labels inside macros.
      [/^\s*%[a-z]+/, 'keyword.preprocessor'],
      [/%%[\w.]+|%\d+|%[a-z_]\w*/, 'variable.macro'],
      // A label at the start of a line: `name:`, `.local:`, or a bare name before a directive.
      [/^\s*\.?[A-Za-z_?$@][\w$#@~.?]*:/, 'type.label'],
      // Numbers in every NASM form.
      [/\b0[xh][0-9a-f_]+\b/, 'number.hex'],
      [/\$[0-9][0-9a-f_]*\b/, 'number.hex'],
      [/\b[0-9][0-9a-f_]*h\b/, 'number.hex'],
      [/\b0[by][01_]+\b|\b[01_]+[by]\b/, 'number.binary'],
      [/\b0[oq][0-7_]+\b|\b[0-7_]+[oq]\b/, 'number.octal'],
      [/\b[0-9][0-9_]*(?:d)?\b/, 'number'],
      [/"/, 'string', '@dstring'],
      [/'/, 'string', '@sstring'],
      [/`/, 'string', '@bstring'],
      [/\$\$|\$/, 'keyword.operator'],
      [
        /\.?[A-Za-z_?@][\w$#@~.?]*/,
        {
          cases: {
            '@registers': 'variable.predefined',
            '@mnemonics': 'keyword',
            '@prefixes': 'keyword',
            '@directives': 'keyword.directive',
            '@sizes': 'type',
            '@default': 'identifier',
          },
        },
      ],
      [/[[\]()]/, '@brackets'],
      [/[-+*/%&|^~!<>=:,]+/, 'operator'],
      [/\s+/, 'white'],
    ],
    dstring: [
      [/[^"]+/, 'string'],
      [/"/, 'string', '@pop'],
    ],
    sstring: [
      [/[^']+/, 'string'],
      [/'/, 'string', '@pop'],
    ],
    bstring: [
      [/\\./, 'string.escape'],
      [/[^`\\]+/, 'string'],
      [/`/, 'string', '@pop'],
    ],
  },
};
