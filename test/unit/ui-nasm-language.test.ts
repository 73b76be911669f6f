// The NASM Monarch grammar, run by Monaco's own tokenizer (monaco.editor.tokenize) under happy-dom.
import { describe, expect, it } from 'vitest';
import * as monaco from 'monaco-editor/editor';
import { NASM_LANGUAGE_ID, nasmConfiguration, nasmLanguage } from '../../src/ui/editor/nasm-language.ts';

monaco.languages.register({ id: NASM_LANGUAGE_ID });
monaco.languages.setLanguageConfiguration(NASM_LANGUAGE_ID, nasmConfiguration);
monaco.languages.setMonarchTokensProvider(NASM_LANGUAGE_ID, nasmLanguage as unknown as monaco.languages.IMonarchLanguage);

/** [text, token type] pairs of one line, whitespace dropped. */
function tokens(line: string): [string, string][] {
  const [toks] = monaco.editor.tokenize(line, NASM_LANGUAGE_ID);
  const out: [string, string][] = [];
  toks.forEach((t, i) => {
    const text = line.slice(t.offset, toks[i + 1]?.offset ?? line.length);
    if (text.trim()) out.push([text.trim(), t.type.replace(/\.nasm$/, '')]);
  });
  return out;
}

describe('the NASM Monarch grammar', () => {
  it('tells labels, mnemonics, registers, numbers and comments apart', () => {
    expect(tokens('start:  mov eax, 0x1F ; load')).toEqual([
      ['start:', 'type.label'], ['mov', 'keyword'], ['eax', 'variable.predefined'], [',', 'operator'], ['0x1F', 'number.hex'], ['; load', 'comment'],
    ]);
  });

  it('knows every NASM number form', () => {
    expect(tokens('dd 0x10, 10h, $1f, 1010b, 0b1010, 17o, 0q17, 42, 1_000')).toEqual([
      ['dd', 'keyword.directive'],
      ['0x10', 'number.hex'], [',', 'operator'], ['10h', 'number.hex'], [',', 'operator'], ['$1f', 'number.hex'], [',', 'operator'],
      ['1010b', 'number.binary'], [',', 'operator'], ['0b1010', 'number.binary'], [',', 'operator'], ['17o', 'number.octal'], [',', 'operator'],
      ['0q17', 'number.octal'], [',', 'operator'], ['42', 'number'], [',', 'operator'], ['1_000', 'number'],
    ]);
  });

  it('marks local labels, memory operands, sizes and strings', () => {
    expect(tokens('.loop: mov byte [esi+4], \'a\'')).toEqual([
      ['.loop:', 'type.label'], ['mov', 'keyword'], ['byte', 'type'], ['[', 'delimiter.square'], ['esi', 'variable.predefined'],
      ['+', 'operator'], ['4', 'number'], [']', 'delimiter.square'], [',', 'operator'], ["'a'", 'string'],
    ]);
    expect(tokens('msg: db "hi; not a comment", 0')).toEqual([
      ['msg:', 'type.label'], ['db', 'keyword.directive'], ['"hi; not a comment"', 'string'], [',', 'operator'], ['0', 'number'],
    ]);
  });

  it('covers conditional jumps by all their NASM names, prefixes and the preprocessor', () => {
    for (const m of ['je', 'jz', 'jnae', 'jge', 'setnle', 'loopne', 'iretd', 'lgdt', 'invlpg']) expect(tokens(`${m} x`)[0]).toEqual([m, 'keyword']);
    expect(tokens('rep movsb')).toEqual([['rep', 'keyword'], ['movsb', 'keyword']]);
    expect(tokens('%define COUNT 3')[0]).toEqual(['%define', 'keyword.preprocessor']);
    expect(tokens('jmp %%skip')).toEqual([['jmp', 'keyword'], ['%%skip', 'variable.macro']]);
    expect(tokens('mov cr0, eax')[1]).toEqual(['cr0', 'variable.predefined']);
    expect(tokens('fancy_name')).toEqual([['fancy_name', 'identifier']]);
  });
});
