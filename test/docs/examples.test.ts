// Every ```ts block in README.md and docs/*.md is a complete program: this test packs the library
// as `npm pack` would publish it, installs the tarball into a fresh project, type-checks every
// block there with strict settings, and runs each one with Node. A block that does not compile,
// throws, or writes to stderr fails the suite, so the docs cannot rot. (The packing, type-checking
// and running are in run-blocks.ts, shared with tsdoc-examples.test.ts.)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlockProject, built, fencedBlocks, root } from './run-blocks.js';

/** The markdown files whose code blocks are programs: the README and the guides (not results/). */
function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', ...docs.sort()];
}

const blocks = markdownFiles().flatMap((file) => fencedBlocks(file, readFileSync(join(root, file), 'utf8').split('\n')));

describe.runIf(built)('code blocks in README.md and docs/*.md', () => {
  let project: BlockProject | undefined;

  beforeAll(() => {
    project = BlockProject.create('robust-agg-docs-', blocks);
  }, 120_000);

  afterAll(() => project?.dispose());

  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(10);
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
