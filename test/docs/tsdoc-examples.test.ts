// Every ```ts block inside an @example tag of src/**/*.ts is a complete program, as the API site
// shows it: this test extracts them (the comment's leading ` * ` stripped), installs the packed
// library into a fresh project, type-checks all of them with one strict tsc run and runs each one
// with Node (run-blocks.ts, shared with examples.test.ts). A block that does not compile, throws,
// or writes to stderr fails the suite.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Block, BlockProject, built, fencedBlocks, root } from './run-blocks.js';

/**
 * Files whose examples are not yet complete programs (their owners are rewriting them, issue 15):
 * their blocks are skipped, and the count is printed. Empty this set as each file is converted;
 * every block of every other file must type-check and run.
 */
const PENDING_FILES: ReadonlySet<string> = new Set([]);

/** Every .ts file under dir, relative to the root, sorted. */
function sources(dir: string): string[] {
  return readdirSync(join(root, dir))
    .flatMap((f) => {
      const path = join(dir, f);
      if (statSync(join(root, path)).isDirectory()) return sources(path);
      return path.endsWith('.ts') ? [path] : [];
    })
    .sort();
}

/**
 * The ```ts blocks of the @example tags of one file. Inside a doc comment (`/** … *\/`), an @example
 * tag runs until the next block tag or the end of the comment; its lines, with the leading ` * `
 * removed, are searched for fences. Lines elsewhere are blanked, so the blocks keep their lines.
 */
function exampleBlocks(file: string, text: string): Block[] {
  const lines = text.split('\n');
  const kept: string[] = [];
  let inComment = false;
  let inExample = false;
  for (const line of lines) {
    if (!inComment && /^\s*\/\*\*/.test(line)) {
      inComment = true;
      inExample = false;
    }
    if (!inComment) {
      kept.push('');
      continue;
    }
    const body = line.replace(/^\s*\/?\*+\/?\s?/, '');
    const ends = /\*\/\s*$/.test(line);
    if (/^@example\b/.test(body)) inExample = true;
    else if (/^@\w+/.test(body)) inExample = false;
    kept.push(inExample && !ends ? line.replace(/^\s*\* ?/, '') : '');
    if (ends) inComment = false;
  }
  return fencedBlocks(file, kept);
}

// TSDOC_EXAMPLES_ONLY=<part of a path> checks only the files whose path contains it (while editing).
const only = process.env.TSDOC_EXAMPLES_ONLY;
const all = sources('src')
  .filter((file) => only === undefined || file.includes(only))
  .flatMap((file) => exampleBlocks(file, readFileSync(join(root, file), 'utf8')));
const blocks = all.filter((b) => !PENDING_FILES.has(b.file));
const pending = all.length - blocks.length;

describe('extracting @example blocks', () => {
  it('takes the fenced ts blocks of @example tags only, without the comment prefix, at their lines', () => {
    const source = [
      '/**', //                      line 1
      ' * Text with a block that is not an example:',
      ' * ```ts',
      ' * notAnExample();',
      ' * ```',
      ' *',
      ' * @param x - a parameter.',
      ' * @example',
      ' * ```ts',
      " * import { mean } from 'robust-agg';", // line 10
      ' *',
      ' *   console.log(mean([Float32Array.of(1)]));',
      ' * ```',
      ' * @returns nothing; a ```ts fence here is not an example either.',
      ' */',
      'export function f(x: number): void {}',
      '/** @example',
      ' * ```typescript',
      ' * second();',
      ' * ```',
      ' */',
    ].join('\n');
    const found = exampleBlocks('src/x.ts', source);
    expect(found.map((b) => [b.line, b.code])).toEqual([
      [9, "import { mean } from 'robust-agg';\n\n  console.log(mean([Float32Array.of(1)]));"],
      [18, 'second();'],
    ]);
  });
});

describe.runIf(built)('@example blocks in src/**/*.ts', () => {
  let project: BlockProject | undefined;

  beforeAll(() => {
    if (pending > 0) {
      const files = new Set(all.filter((b) => PENDING_FILES.has(b.file)).map((b) => b.file)).size;
      console.log(`tsdoc examples: ${blocks.length} checked, ${pending} skipped in ${files} PENDING_FILES`);
    }
    project = BlockProject.create('robust-agg-tsdoc-', blocks);
  }, 120_000);

  afterAll(() => project?.dispose());

  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(only === undefined ? 50 : 0);
  });

  it('every pending file exists', () => {
    // A renamed or removed file must leave the list, so the list stays what is left to do.
    for (const f of PENDING_FILES) expect(existsSync(join(root, f)), f).toBe(true);
  });

  it('every block type-checks against the packed package (strict)', () => {
    const { status, report } = project!.typecheck();
    expect(report).toBe('');
    expect(status).toBe(0);
  }, 120_000);

  for (const b of blocks) {
    it(`${b.file}:${b.line} runs`, async () => {
      const r = await project!.run(b);
      expect(r.stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    }, 180_000);
  }
});
