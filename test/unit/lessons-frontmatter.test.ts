// lesson.md front matter: the YAML subset parser and the LessonMeta built from it.
import { describe, expect, it } from 'vitest';
import { parseFrontMatter, parseLessonMeta, LessonFormatError } from '../../src/lessons/index.ts';

const doc = (front: string, body = '# Body\ntext\n') => `---\n${front}\n---\n${body}`;

function errorOf(fn: () => unknown): LessonFormatError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LessonFormatError) return err;
    throw err;
  }
  throw new Error('expected a LessonFormatError');
}

describe('parseFrontMatter', () => {
  it('reads scalars, nested maps, block and inline lists, comments and quotes', () => {
    const fm = parseFrontMatter('x/lesson.md', doc([
      'title: "Paging: CR2 # and more"   # a comment',
      'order: 3',
      'hex: 0x100000',
      'neg: -2',
      'flag: true',
      "quote: 'it''s'",
      'goals:',
      '  - build tables',
      '  - "read CR2"',
      'inline: [a, "b, c", 3]',
      'machine:',
      '  boot: flat 0x100000',
      '  nested:',
      '    deep: yes',
      'empty: []',
    ].join('\n')));
    expect(fm.data).toEqual({
      title: 'Paging: CR2 # and more',
      order: 3,
      hex: 0x100000,
      neg: -2,
      flag: true,
      quote: "it's",
      goals: ['build tables', 'read CR2'],
      inline: ['a', 'b, c', 3],
      machine: { boot: 'flat 0x100000', nested: { deep: 'yes' } },
      empty: [],
    });
    expect(fm.body).toBe('# Body\ntext\n');
    expect(fm.bodyLine).toBe(18);
  });

  it.each([
    ['no front matter', '# just markdown\n', 'line 1', 'must start with front matter'],
    ['no closing line', '---\ntitle: x\n', 'front matter', 'no closing "---" line'],
    ['a tab', doc('title: x\n\torder: 1'), 'line 3', 'use spaces, not tabs'],
    ['stray indentation', doc('title: x\n  order: 1'), 'line 3', "unexpected indentation before 'order: 1'"],
    ['a duplicate key', doc('title: x\ntitle: y'), 'line 3', "'title' is given twice"],
    ['a key without value', doc('title:\norder: 1'), 'line 2', "'title:' has no value"],
    ['a list item at the top', doc('- item'), 'line 2', 'a list item where a "key: value" line was expected'],
    ['a line that is not key: value', doc('just words'), 'line 2', `expected "key: value", got 'just words'`],
    ['an unterminated quote', doc('title: "open'), 'line 2', 'unterminated quote'],
    ['an inline map', doc('machine: {boot: multiboot}'), 'line 2', 'inline maps {...} are not supported'],
    ['a list mixed with keys', doc('goals:\n  - a\n  b: c'), 'line 4', "expected a list item \"- ...\", got 'b: c'"],
  ])('rejects %s, naming the line', (_, text, where, problem) => {
    const err = errorOf(() => parseFrontMatter('01-x/lesson.md', text));
    expect(err.file).toBe('01-x/lesson.md');
    expect(err.where).toBe(where);
    expect(err.problem).toContain(problem);
    expect(err.message).toBe(`01-x/lesson.md: ${where}: ${err.problem}`);
  });
});

describe('parseLessonMeta', () => {
  it('builds the lesson settings with defaults', () => {
    const m = parseLessonMeta('03-paging', '03-paging/lesson.md', doc('title: Paging\norder: 3\nmachine:\n  memory: 32M'));
    expect(m).toMatchObject({
      name: '03-paging',
      title: 'Paging',
      order: 3,
      goals: [],
      kernel: 'kernel.asm',
      machine: { boot: { kind: 'multiboot' }, memoryBytes: 32 * 1048576, maxInstructions: 50_000_000 },
    });
    expect(m.hv).toBeUndefined();
  });

  it('reads boot modes and hypervisor defaults', () => {
    const m = parseLessonMeta('x', 'x/lesson.md', doc('title: T\norder: 1\nmachine:\n  boot: flat 0x200000\n  maxInstructions: 1000\nhv:\n  paging: nested'));
    expect(m.machine.boot).toEqual({ kind: 'flat', address: 0x200000 });
    expect(m.machine.maxInstructions).toBe(1000);
    expect(m.hv).toEqual({ cpu: 'vtx', paging: 'nested', sched: 'rr' });
    expect(parseLessonMeta('x', 'x/lesson.md', doc('title: T\norder: 1\nmachine:\n  boot: boot-sector')).machine.boot).toEqual({ kind: 'boot-sector' });
  });

  it.each([
    ['order: 1', "front matter 'title'", 'missing: every lesson needs a title'],
    ['title: T', "front matter 'order'", 'missing or not a whole number'],
    ['title: T\norder: one', "front matter 'order'", 'missing or not a whole number'],
    ['title: T\norder: 1\ngoals: text', "front matter 'goals'", 'must be a list'],
    ['title: T\norder: 1\nauthor: me', "front matter 'author'", 'unknown field (known: title, order, goals, kernel, machine, hv)'],
    ['title: T\norder: 1\nmachine:\n  boot: floppy', "front matter 'machine.boot'", "'floppy' is not a boot mode"],
    ['title: T\norder: 1\nmachine:\n  memory: 3K', "front matter 'machine.memory'", "'3K' is not a size from 2M to 1G"],
    ['title: T\norder: 1\nmachine:\n  speed: 3', "front matter 'machine.speed'", 'unknown field'],
    ['title: T\norder: 1\nmachine:\n  maxInstructions: 0', "front matter 'machine.maxInstructions'", 'must be a positive whole number'],
    ['title: T\norder: 1\nhv:\n  cpu: kvm', "front matter 'hv.cpu'", "'kvm' is not one of vtx, deprivilege, bt"],
    ['title: T\norder: 1\nhv:\n  vms: 3', "front matter 'hv.vms'", 'unknown field (known: cpu, paging, sched)'],
  ])('rejects %j with a message naming the field', (front, where, problem) => {
    const err = errorOf(() => parseLessonMeta('x', 'x/lesson.md', doc(front)));
    expect(err.file).toBe('x/lesson.md');
    expect(err.where).toBe(where);
    expect(err.problem).toContain(problem);
  });
});
