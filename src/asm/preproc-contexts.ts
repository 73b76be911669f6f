// The %push/%pop context stack: `%$name` is a label local to the innermost context (`%$$name` to
// the one below), the way NASM's macros keep their own labels apart when they nest (if/else/endif).

import type { RawLine, Report } from './preproc-source.ts';

export class ContextStack {
  private contexts: { name: string; id: number }[] = [];

  /** `nextId` is shared with macro calls, so context and `%%` labels never collide. */
  constructor(
    private report: Report,
    private nextId: () => number,
  ) {}

  /** The innermost context's name, for %ifctx. */
  topName(): string | undefined {
    return this.contexts[this.contexts.length - 1]?.name;
  }

  /** `%$name` -> a label unique to the current %push context (`%$$name`: the one below it). */
  localLabels(text: string, raw: RawLine): string {
    return text.replace(/%(\$+)([A-Za-z0-9_.?@$#~]+)/g, (m, dollars: string, name: string) => {
      const ctx = this.contexts[this.contexts.length - dollars.length];
      if (!ctx) {
        this.report('error', raw.file, raw.line, text.indexOf(m) + 1, `'${m}' is used outside a %push context`);
        return name;
      }
      return `..@${ctx.id}.${name}`;
    });
  }

  /** Handles %push, %pop and %repl; false for any other directive. */
  directive(name: string, args: string, raw: RawLine, col: number, argCol: number): boolean {
    const at = (c: number, msg: string) => this.report('error', raw.file, raw.line, c + 1, msg);
    const top = this.contexts[this.contexts.length - 1];
    switch (name) {
      case 'push':
        this.contexts.push({ name: args.trim().split(/\s+/)[0] ?? '', id: this.nextId() });
        return true;
      case 'pop': {
        const want = args.trim();
        if (!top) at(col, '%pop without a matching %push (the context stack is empty)');
        else if (want && want !== top.name) at(argCol, `%pop ${want}: the current context is '${top.name}'`);
        else this.contexts.pop();
        return true;
      }
      case 'repl':
        if (!top) at(col, '%repl without a %push context');
        else top.name = args.trim();
        return true;
    }
    return false;
  }
}
