// lesson.md starts with front matter between two `---` lines, in a small YAML subset:
//   key: value            scalars: numbers (12, 0x100000), true/false, "quoted" or bare text
//   key:                  a nested map (indented by more spaces) or a list of `- item` lines
//   key: [a, b]           an inline list
//   # comment             whole-line comments, and ` #` after a value outside quotes
// Anything else is an error naming the line, so a teacher's typo never passes silently.
import { LessonFormatError } from './types.ts';

export type FrontValue = string | number | boolean | FrontValue[] | { [key: string]: FrontValue };
export type FrontMap = { [key: string]: FrontValue };

export interface FrontMatter {
  data: FrontMap;
  body: string;
  /** 1-based line of the body's first line in the file. */
  bodyLine: number;
}

interface Line {
  no: number;
  indent: number;
  text: string;
}

/** Splits lesson.md into its front matter (parsed) and the markdown body. */
export function parseFrontMatter(file: string, source: string): FrontMatter {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  if (lines[0]?.trim() !== '---') {
    throw new LessonFormatError(file, 'line 1', 'a lesson.md must start with front matter: a line "---", "key: value" lines, then "---"');
  }
  const end = lines.findIndex((l, i) => i > 0 && l.trim() === '---');
  if (end < 0) throw new LessonFormatError(file, 'front matter', 'no closing "---" line');
  const content: Line[] = [];
  for (let i = 1; i < end; i++) {
    const raw = lines[i]!;
    if (raw.includes('\t')) throw new LessonFormatError(file, `line ${i + 1}`, 'use spaces, not tabs, to indent front matter');
    const text = stripComment(raw).trimEnd();
    if (text.trim() === '') continue;
    content.push({ no: i + 1, indent: text.length - text.trimStart().length, text: text.trim() });
  }
  const parser = new BlockParser(file, content);
  const data = parser.map(0);
  if (parser.pos < content.length) {
    const l = content[parser.pos]!;
    throw new LessonFormatError(file, `line ${l.no}`, `unexpected indentation before '${l.text}'`);
  }
  return { data, body: lines.slice(end + 1).join('\n'), bodyLine: end + 2 };
}

function stripComment(line: string): string {
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i);
    }
  }
  return line;
}

class BlockParser {
  pos = 0;
  constructor(
    private readonly file: string,
    private readonly lines: Line[],
  ) {}

  private error(line: Line, problem: string): never {
    throw new LessonFormatError(this.file, `line ${line.no}`, problem);
  }

  /** A map whose keys sit at exactly `indent` spaces. */
  map(indent: number): FrontMap {
    const out: FrontMap = {};
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) this.error(line, `unexpected indentation before '${line.text}'`);
      if (line.text.startsWith('- ') || line.text === '-') this.error(line, 'a list item where a "key: value" line was expected');
      const m = /^([A-Za-z_][\w-]*)\s*:(?:\s+(.*))?$/.exec(line.text);
      if (!m) this.error(line, `expected "key: value", got '${line.text}'`);
      const key = m[1]!;
      if (Object.prototype.hasOwnProperty.call(out, key)) this.error(line, `'${key}' is given twice`);
      this.pos++;
      const rest = (m[2] ?? '').trim();
      out[key] = rest !== '' ? this.scalarOrInline(line, rest) : this.block(line, indent);
    }
    return out;
  }

  /** What follows "key:" on the next, more indented lines: a list or a map. */
  private block(owner: Line, indent: number): FrontValue {
    const next = this.lines[this.pos];
    if (!next || next.indent <= indent) this.error(owner, `'${owner.text}' has no value`);
    if (next.text.startsWith('- ') || next.text === '-') return this.list(next.indent);
    return this.map(next.indent);
  }

  private list(indent: number): FrontValue[] {
    const out: FrontValue[] = [];
    while (this.pos < this.lines.length) {
      const line = this.lines[this.pos]!;
      if (line.indent < indent) break;
      if (line.indent > indent) this.error(line, `unexpected indentation before '${line.text}'`);
      if (!(line.text.startsWith('- ') || line.text === '-')) this.error(line, `expected a list item "- ...", got '${line.text}'`);
      const item = line.text.slice(1).trim();
      if (item === '') this.error(line, 'empty list item');
      this.pos++;
      out.push(this.scalarOrInline(line, item));
    }
    return out;
  }

  private scalarOrInline(line: Line, text: string): FrontValue {
    if (text.startsWith('[')) {
      if (!text.endsWith(']')) this.error(line, `an inline list must end with ']': '${text}'`);
      const inner = text.slice(1, -1).trim();
      return inner === '' ? [] : splitInline(inner).map((part) => scalar(part.trim(), () => this.error(line, `bad list item in '${text}'`)));
    }
    if (text.startsWith('{')) this.error(line, 'inline maps {...} are not supported: put the keys on their own, indented lines');
    return scalar(text, () => this.error(line, `unterminated quote in '${text}'`));
  }
}

function splitInline(text: string): string[] {
  const parts: string[] = [];
  let quote = '';
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ',') {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** A scalar: quoted text, a number (decimal or 0x hex), true/false, or bare text. */
function scalar(text: string, bad: () => never): FrontValue {
  const q = text[0];
  if (q === '"' || q === "'") {
    if (text.length < 2 || text[text.length - 1] !== q) bad();
    const inner = text.slice(1, -1);
    return q === '"' ? inner.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c)) : inner.replace(/''/g, "'");
  }
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^0x[0-9a-f]+$/i.test(text)) return parseInt(text.slice(2), 16);
  return text;
}
