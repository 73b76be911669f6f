// A small, safe markdown renderer for lesson.md: headings, paragraphs, lists, fenced code, inline
// code, emphasis, links and <details><summary> questions. Everything else is escaped: a lesson is
// text, never markup. It also marks the step references the app can act on: `label` in inline code
// that names a label of the lesson's kernel (data-label, click highlights it in the editor), the
// names of the app's panels (a button that opens the panel) and the debugger's keys (<kbd>).

export interface RenderOptions {
  /** Labels defined in the lesson's sources: inline code naming one becomes a reference. */
  labels?: ReadonlySet<string>;
  /** Event breakpoints the app can set (a kind, or a kind with a field condition): inline code naming one becomes an "event breakpoint" button. */
  events?: { has(code: string): boolean };
}

/** Phrases in a lesson's text → the app's panel they name (longest first where they overlap). */
export const PANEL_PHRASES: [RegExp, string][] = [
  [/\bpage-table view\b|\bPaging (?:panel|view|tab)\b/g, 'paging'],
  [/\bRegisters (?:panel|view)\b/g, 'registers'],
  [/\bHypervisor tab\b/g, 'hv'],
  [/\bVMs tab\b/g, 'vms'],
  [/\bTables (?:panel|view)\b|\bGDT\/IDT\/TSS (?:panel|view|tab)\b/g, 'tables'],
  [/\b[Dd]isassembly(?: panel| view)?\b/g, 'disasm'],
  [/\b[Ee]vent log\b|\bEvents (?:panel|tab)\b/g, 'events'],
  [/\b[Ss]erial console\b|\bSerial tab\b/g, 'serial'],
  [/\bVGA (?:screen|panel)\b/g, 'vga'],
  [/\bMemory (?:panel|view|tab)\b/g, 'memory'],
  [/\bStack (?:panel|view|tab)\b/g, 'stack'],
  [/\bTLB (?:panel|view|tab)\b/g, 'tlb'],
  [/\bCR0\/CR3\/CR4 (?:panel|tab)\b|\bcontrol-register (?:panel|view)\b/g, 'control'],
  [/\bBreakpoints (?:panel|tab|list)\b/g, 'breakpoints'],
];

const KEYS = /\b((?:Shift\+)?F(?:5|9|10|11))\b/g;

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Only web links and links inside the site; never javascript: or data: URLs. */
function safeHref(href: string): string | null {
  const h = href.trim();
  if (/^https?:\/\//i.test(h) || /^#[\w-]*$/.test(h)) return h;
  if (/^[\w./-]+$/.test(h) && !h.includes('..')) return h;
  return null;
}

/** Plain text (already free of code spans): escape it, then mark panels, keys, emphasis. */
function textSpan(raw: string): string {
  let s = escapeHtml(raw);
  s = s.replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>').replace(/(^|[^*\w])\*([^*\s][^*]*?)\*(?!\w)/g, '$1<em>$2</em>');
  s = s.replace(KEYS, '<kbd>$1</kbd>');
  // Placeholders first, so that one phrase's button never gets matched by another phrase.
  const buttons: string[] = [];
  for (const [re, panel] of PANEL_PHRASES) {
    s = s.replace(re, (m) => {
      buttons.push(`<button type="button" class="ref-panel" data-panel="${panel}" title="Open the ${m}">${m}</button>`);
      return `\u0000${buttons.length - 1}\u0000`;
    });
  }
  return s.replace(/\u0000(\d+)\u0000/g, (_, n: string) => buttons[Number(n)]!);
}

/** Inline markdown: `code` first (its content is literal), then links, then the rest. */
export function renderInline(src: string, opts: RenderOptions = {}): string {
  let out = '';
  const re = /`([^`]+)`|\[([^\]]+)\]\(([^)\s]+)\)/g;
  let last = 0;
  for (let m = re.exec(src); m; m = re.exec(src)) {
    out += textSpan(src.slice(last, m.index));
    if (m[1] !== undefined) {
      const code = m[1];
      const label = opts.labels?.has(code) ? code : null;
      const event = !label && opts.events?.has(code) ? code : null;
      out += event
        ? `<code class="ref-event" data-event="${escapeHtml(event)}" role="button" tabindex="0" title="Stop on the next ${escapeHtml(event)} event: adds an event breakpoint (Breakpoints tab)">${escapeHtml(code)}</code>`
        : label
        ? `<code class="ref-label" data-label="${escapeHtml(label)}" role="button" tabindex="0" title="Show ${escapeHtml(label)} in the editor">${escapeHtml(code)}</code>`
        : `<code>${escapeHtml(code)}</code>`;
    } else {
      const href = safeHref(m[3]!);
      out += href ? `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${textSpan(m[2]!)}</a>` : textSpan(m[0]);
    }
    last = m.index + m[0].length;
  }
  return out + textSpan(src.slice(last));
}

interface ListState { ordered: boolean; items: string[]; numbers: number[] }

/** Renders a lesson body to HTML. */
export function renderMarkdown(src: string, opts: RenderOptions = {}): string {
  const lines = src.replace(/\r\n?/g, '\n').split('\n');
  const out: string[] = [];
  let para: string[] = [];
  let list: ListState | null = null;
  /** Inside the "Steps" section, ordered items are steps: data-step = their number. */
  let inSteps = false;

  const flushPara = () => {
    if (para.length) out.push(`<p>${renderInline(para.join(' '), opts)}</p>`);
    para = [];
  };
  const flushList = () => {
    if (!list) return;
    const tag = list.ordered ? 'ol' : 'ul';
    const l = list;
    const start = l.ordered && l.numbers[0] !== 1 ? ` start="${l.numbers[0]}"` : '';
    out.push(`<${tag}${start}>${l.items.map((it, i) => {
      const attr = l.ordered && inSteps ? ` data-step="${l.numbers[i]}"` : '';
      return `<li${attr}>${renderInline(it, opts)}</li>`;
    }).join('')}</${tag}>`);
    list = null;
  };
  const flush = () => { flushPara(); flushList(); };

  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const fence = /^\s*```/.exec(line);
    if (fence) {
      flush();
      const code: string[] = [];
      for (i++; i < lines.length && !/^\s*```/.test(lines[i]!); i++) code.push(lines[i]!);
      out.push(`<pre><code>${escapeHtml(code.join('\n'))}</code></pre>`);
      continue;
    }
    const details = /^\s*<details>\s*<summary>(.*?)<\/summary>(.*)$/i.exec(line);
    if (details) {
      flush();
      const body: string[] = [details[2]!];
      let closed = /<\/details>\s*$/i.test(details[2]!);
      if (closed) body[0] = details[2]!.replace(/<\/details>\s*$/i, '');
      for (i++; !closed && i < lines.length; i++) {
        const l = lines[i]!;
        if (/<\/details>\s*$/i.test(l)) {
          body.push(l.replace(/<\/details>\s*$/i, ''));
          closed = true;
          break;
        }
        body.push(l);
      }
      out.push(`<details><summary>${renderInline(details[1]!, opts)}</summary><div class="answer">${renderMarkdown(body.join('\n'), { ...opts })}</div></details>`);
      continue;
    }
    const heading = /^(#{1,4})\s+(.*)$/.exec(line);
    if (heading) {
      flush();
      const level = Math.min(6, heading[1]!.length + 1); // the pane's title is the h1
      inSteps = /^steps\b/i.test(heading[2]!.trim());
      out.push(`<h${level}>${renderInline(heading[2]!, opts)}</h${level}>`);
      continue;
    }
    const item = /^(\s*)(\d+[.)]|[-*+])\s+(.*)$/.exec(line);
    if (item && item[1]!.length < 2) {
      flushPara();
      const ordered = /\d/.test(item[2]!);
      if (list && list.ordered !== ordered) flushList();
      list ??= { ordered, items: [], numbers: [] };
      list.items.push(item[3]!);
      list.numbers.push(ordered ? parseInt(item[2]!, 10) : 0);
      continue;
    }
    if (line.trim() === '') {
      flush();
      continue;
    }
    if (list && /^\s+\S/.test(line)) {
      list.items[list.items.length - 1] += ' ' + line.trim(); // an item's continuation line
      continue;
    }
    flushList();
    para.push(line.trim());
  }
  flush();
  return out.join('\n');
}
