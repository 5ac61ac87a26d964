// Every ```ts block in README.md and docs/*.md is a complete program: this test packs the library
// as `npm pack` would publish it, installs the tarball into a fresh project, type-checks every
// block there with strict settings, and runs each one with Node. A block that does not compile,
// throws, or writes to stderr fails the suite, so the docs cannot rot.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const built = existsSync(join(root, 'dist/index.js'));

/** One ```ts block of a markdown file. */
interface Block {
  readonly file: string;
  readonly line: number;
  readonly code: string;
  readonly name: string;
}

/** The markdown files whose code blocks are programs: the README and the guides (not results/). */
function markdownFiles(): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f));
  return ['README.md', ...docs.sort()];
}

function blocksOf(file: string): Block[] {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const slug = file.replace(/[^a-z0-9]+/gi, '-').replace(/-md$/, '');
    blocks.push({ file, line: start, code: lines.slice(start, end).join('\n'), name: `${slug}-L${start}` });
    i = end;
  }
  return blocks;
}

const blocks = markdownFiles().flatMap(blocksOf);

describe.runIf(built)('code blocks in README.md and docs/*.md', () => {
  let dir = '';

  beforeAll(() => {
    // A fresh project with the packed tarball installed under node_modules/robust-agg; the peer
    // and type packages it may need are linked from this repository's node_modules.
    dir = mkdtempSync(join(tmpdir(), 'robust-agg-docs-'));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], {
      cwd: root,
      encoding: 'utf8',
    })
      .trim()
      .split('\n')
      .pop()!;
    const pkg = join(dir, 'node_modules/robust-agg');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', join(dir, tarball), '-C', pkg, '--strip-components=1']);
    mkdirSync(join(dir, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(root, 'node_modules/@tensorflow'), join(dir, 'node_modules/@tensorflow'));
    symlinkSync(join(root, 'node_modules/@types/node'), join(dir, 'node_modules/@types/node'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'docs-examples', private: true, type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'es2022',
          module: 'nodenext',
          moduleResolution: 'nodenext',
          strict: true,
          noEmit: true,
          types: ['node'],
          skipLibCheck: true,
        },
        include: ['examples/*.ts'],
      }),
    );
    mkdirSync(join(dir, 'examples'));
    for (const b of blocks) {
      // `export {}` makes every block a module, so top-level await and top-level names of one
      // block never collide with another's.
      writeFileSync(join(dir, 'examples', `${b.name}.ts`), `${b.code}\nexport {};\n`);
    }
  }, 120_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('finds the blocks', () => {
    expect(blocks.length).toBeGreaterThan(10);
  });

  it('every block type-checks against the packed package (strict)', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8' });
    // Name the markdown file and line of each error, not the temporary file.
    const report = (r.stdout + r.stderr).replace(/examples\/(\S+?)\.ts\((\d+),(\d+)\)/g, (_, name: string, l: string) => {
      const b = blocks.find((x) => x.name === name)!;
      return `${b.file}:${b.line + Number(l) - 1}`;
    });
    expect(report.trim()).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);

  for (const b of blocks) {
    it(`${b.file}:${b.line} runs`, () => {
      const ts = join(dir, 'examples', `${b.name}.ts`);
      const js = join(dir, 'examples', `${b.name}.mjs`);
      execFileSync(join(root, 'node_modules/.bin/esbuild'), [ts, `--outfile=${js}`, '--format=esm', '--log-level=error']);
      const r = spawnSync(process.execPath, [relative(dir, js)], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      // tfjs-backend-cpu prints one advert for tfjs-node on stderr in Node: not an error of ours.
      const stderr = r.stderr.replace(/\n?=+\nHi,? (there|looks like)[^\n]*\n=+\n?/s, '');
      expect(stderr.trim()).toBe('');
      expect(r.status).toBe(0);
    }, 90_000);
  }
});
