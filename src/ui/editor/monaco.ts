// Monaco, loaded the lean way: the editor core plus only the contributions the app uses (hover,
// go to definition, find, markers, folding...), none of Monaco's bundled languages, and its one
// editor worker bundled by Vite (so the built site works offline).
import * as monaco from 'monaco-editor/editor';
import 'monaco-editor/editor/browser/coreCommands';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution';
import 'monaco-editor/editor/contrib/gotoSymbol/browser/link/goToDefinitionAtPosition';
import 'monaco-editor/editor/contrib/gotoSymbol/browser/goToCommands';
import 'monaco-editor/editor/contrib/find/browser/findController';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError';
import 'monaco-editor/editor/contrib/folding/browser/folding';
import 'monaco-editor/editor/contrib/comment/browser/comment';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter';
import 'monaco-editor/editor/contrib/multicursor/browser/multicursor';
import 'monaco-editor/editor/contrib/linesOperations/browser/linesOperations';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard';
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu';
import 'monaco-editor/editor/contrib/wordOperations/browser/wordOperations';
import 'monaco-editor/editor/contrib/cursorUndo/browser/cursorUndo';
import EditorWorker from 'monaco-editor/editor/editor.worker?worker';
import { NASM_LANGUAGE_ID, nasmConfiguration, nasmLanguage } from './nasm-language.ts';

(self as unknown as { MonacoEnvironment: monaco.Environment }).MonacoEnvironment = {
  getWorker: () => new EditorWorker(),
};

let registered = false;

/** Registers the NASM language and vizor's themes once. */
export function setupMonaco(): typeof monaco {
  if (registered) return monaco;
  registered = true;
  monaco.languages.register({ id: NASM_LANGUAGE_ID, extensions: ['.asm', '.s', '.inc', '.nasm'], aliases: ['NASM', 'x86'] });
  monaco.languages.setLanguageConfiguration(NASM_LANGUAGE_ID, nasmConfiguration);
  monaco.languages.setMonarchTokensProvider(NASM_LANGUAGE_ID, nasmLanguage as unknown as monaco.languages.IMonarchLanguage);
  const rules = (dark: boolean): monaco.editor.ITokenThemeRule[] => [
    { token: 'keyword.nasm', foreground: dark ? '569cd6' : '0033b3', fontStyle: 'bold' },
    { token: 'keyword.directive.nasm', foreground: dark ? 'c586c0' : '871094' },
    { token: 'keyword.preprocessor.nasm', foreground: dark ? 'c586c0' : '871094' },
    { token: 'variable.predefined.nasm', foreground: dark ? '4ec9b0' : '067d17' },
    { token: 'type.label.nasm', foreground: dark ? 'dcdcaa' : '795e26', fontStyle: 'bold' },
    { token: 'number', foreground: dark ? 'b5cea8' : '1750eb' },
    { token: 'comment', foreground: dark ? '6a9955' : '6a737d', fontStyle: 'italic' },
    { token: 'string', foreground: dark ? 'ce9178' : 'a31515' },
  ];
  monaco.editor.defineTheme('vizor-light', { base: 'vs', inherit: true, rules: rules(false), colors: {} });
  monaco.editor.defineTheme('vizor-dark', { base: 'vs-dark', inherit: true, rules: rules(true), colors: {} });
  monaco.editor.defineTheme('vizor-hc-light', { base: 'hc-light', inherit: true, rules: rules(false), colors: {} });
  monaco.editor.defineTheme('vizor-hc-dark', { base: 'hc-black', inherit: true, rules: rules(true), colors: {} });
  return monaco;
}

export function themeName(dark: boolean, presenter: boolean): string {
  return `vizor-${presenter ? 'hc-' : ''}${dark ? 'dark' : 'light'}`;
}

export { monaco };
