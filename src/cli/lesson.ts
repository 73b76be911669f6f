// `vizor lesson list | show NAME [--answers] | check NAME|--all`: the lessons under lessons/.
// check exits 0 when every run matches, 1 when one does not (with "expected … but got …"). Runs
// with "hv" run on vizor's hypervisor (src/hypervisor); --bare leaves them unchecked (exit 3).
import { existsSync, readdirSync, readFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  checkLesson,
  formatReport,
  listLessons,
  loadLesson,
  LessonFormatError,
  type HvRunner,
  type LessonFiles,
  type Status,
} from '../lessons/index.ts';

const USAGE = `usage: vizor lesson list
       vizor lesson show NAME [--answers]
       vizor lesson check NAME | --all  [--bare]
  NAME is a lesson folder (03-paging), its number (3) or its slug (paging).
  list     the lessons in order, with what their checks run on
  show     the lesson's text; answers to its questions stay folded unless --answers
  check    runs the lesson's kernel(s) and compares with its check.json: on the bare machine,
           and under vizor's hypervisor for the runs that name one ("hv"); with --bare only the
           bare-machine runs (the others are reported as not checked; --hv is the default)
Options: --dir DIR  the lessons folder (default: the lessons/ of this vizor)
Exit status of check: 0 matches, 1 does not match, 3 runs left unchecked (--bare),
2 usage, 4 a lesson's files are wrong (the message names file and field).
`;

/** Writes to stdout synchronously; a closed pipe (`| head`) is not an error. */
function print(text: string): void {
  try {
    writeSync(1, text);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPIPE') throw err;
  }
}

const STATUS_EXIT: Record<Status, number> = { pass: 0, fail: 1, 'needs-hv': 3 };

export function diskFiles(root: string): LessonFiles {
  return {
    read(path) {
      const full = join(root, path);
      try {
        return readFileSync(full, 'utf8');
      } catch {
        return undefined;
      }
    },
    list(dir) {
      try {
        return readdirSync(join(root, dir));
      } catch {
        return [];
      }
    },
  };
}

function defaultRoot(): string {
  return resolve(fileURLToPath(new URL('../../lessons/', import.meta.url)));
}

/**
 * Runs that need the hypervisor run on src/hypervisor (issue 5) unless --bare asks for the
 * bare-machine runs only (HV_READY in test/conformance/lessons-check.test.ts says the same).
 */
const HV_BY_DEFAULT = true;

async function hvRunner(useHv: boolean): Promise<HvRunner | undefined> {
  return useHv ? (await import('../lessons/hv-runner.ts')).hypervisorRunner : undefined;
}

function list(files: LessonFiles): number {
  const entries = listLessons(files);
  let bad = 0;
  for (const e of entries) {
    if ('error' in e) {
      bad++;
      print(`  ?? ${e.folder.padEnd(28)} ERROR: ${e.error.message}\n`);
      continue;
    }
    const m = e.lesson.meta;
    const hv = e.lesson.check.requires === 'hv';
    const state = hv ? 'checkable: bare machine and hypervisor' : 'checkable: bare machine';
    print(`  ${String(m.order).padStart(2)} ${e.folder.padEnd(28)} ${m.title}  [${state}]\n`);
  }
  return bad > 0 ? 4 : 0;
}

/** Folds <details><summary>Q</summary>A</details> into the question and a hint, unless answers are wanted. */
export function foldAnswers(body: string, answers: boolean): string {
  return body.replace(/<details>\s*<summary>([\s\S]*?)<\/summary>([\s\S]*?)<\/details>/g, (_, q: string, a: string) =>
    answers ? `Q: ${q.trim()}\nA: ${a.trim()}` : `Q: ${q.trim()}\n   (answer folded: vizor lesson show NAME --answers)`,
  );
}

function show(files: LessonFiles, root: string, name: string, answers: boolean): number {
  const lesson = loadLesson(files, name);
  const m = lesson.meta;
  const boot = m.machine.boot.kind === 'flat' ? `flat 0x${m.machine.boot.address.toString(16)}` : m.machine.boot.kind;
  print(`${m.title}  (${m.name}; kernel ${join(root, m.name, m.kernel)}; boot ${boot})\n`);
  if (m.goals.length > 0) print(`Goals:\n${m.goals.map((g) => `  - ${g}`).join('\n')}\n`);
  print(foldAnswers(m.body, answers).replace(/\$LESSON/g, join(root, m.name)));
  return 0;
}

async function check(files: LessonFiles, names: string[], useHv: boolean): Promise<number> {
  const hv = await hvRunner(useHv);
  let worst = 0;
  for (const name of names) {
    const report = checkLesson(files, loadLesson(files, name), hv ? { hv } : {});
    print(formatReport(report));
    if (report.status === 'needs-hv') print(`  (without --bare they run on vizor's hypervisor)\n`);
    const code = STATUS_EXIT[report.status];
    worst = code === 1 || worst === 1 ? 1 : Math.max(worst, code);
  }
  return worst;
}

export async function command(args: string[]): Promise<number> {
  const rest = [...args];
  let root = defaultRoot();
  const dirAt = rest.indexOf('--dir');
  if (dirAt >= 0) {
    const dir = rest[dirAt + 1];
    if (dir === undefined) return usage('--dir needs a folder');
    root = resolve(dir);
    rest.splice(dirAt, 2);
  }
  if (!existsSync(root)) {
    process.stderr.write(`vizor lesson: no lessons folder at ${root}\n`);
    return 4;
  }
  const files = diskFiles(root);
  const [sub, ...more] = rest;
  try {
    switch (sub) {
      case 'list':
        return more.length === 0 ? list(files) : usage(`list takes no arguments`);
      case 'show': {
        const answers = more.includes('--answers');
        const names = more.filter((a) => a !== '--answers');
        return names.length === 1 ? show(files, root, names[0]!, answers) : usage('show takes one lesson name');
      }
      case 'check': {
        if (more.includes('--hv') && more.includes('--bare')) return usage('check takes --hv or --bare, not both');
        const useHv = more.includes('--bare') ? false : more.includes('--hv') || HV_BY_DEFAULT;
        const names = more.filter((a) => a !== '--hv' && a !== '--bare');
        if (names.length === 1 && names[0] === '--all') {
          return await check(files, listLessons(files).map((e) => e.folder), useHv);
        }
        if (names.length !== 1 || names[0]!.startsWith('-')) return usage('check takes one lesson name, or --all');
        return await check(files, [names[0]!], useHv);
      }
      case '-h':
      case '--help':
        print(USAGE);
        return 0;
      default:
        return usage(sub === undefined ? 'missing subcommand' : `unknown subcommand '${sub}'`);
    }
  } catch (err) {
    if (err instanceof LessonFormatError) {
      process.stderr.write(`vizor lesson: ${err.message}\n`);
      return 4;
    }
    throw err;
  }
}

function usage(problem: string): number {
  process.stderr.write(`vizor lesson: ${problem}\n${USAGE}`);
  return 2;
}
