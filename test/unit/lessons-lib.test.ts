// lessons/_lib is a copy of the fixture kernels' library (fixtures/kernels/lib), so that the lessons
// folder stands on its own for a teacher. A fix in one copy must reach the other: this keeps them equal.
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/nasm.ts';

const LESSON_LIB = join(REPO_ROOT, 'lessons', '_lib');
const FIXTURE_LIB = join(REPO_ROOT, 'fixtures', 'kernels', 'lib');

describe("the lessons' kernel library", () => {
  const files = readdirSync(LESSON_LIB).filter((f) => f.endsWith('.inc')).sort();

  it('has the files the lessons include', () => {
    expect(files).toEqual(['end.inc', 'mb.inc', 'sys.inc']);
  });

  it.each(files)('%s is the same as fixtures/kernels/lib/%s', (name) => {
    expect(readFileSync(join(LESSON_LIB, name), 'utf8')).toBe(readFileSync(join(FIXTURE_LIB, name), 'utf8'));
  });
});
