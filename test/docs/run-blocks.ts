// Shared by the tests that run code from the documentation (examples.test.ts: the ```ts blocks of
// README.md and docs/*.md; tsdoc-examples.test.ts: the ```ts blocks of the @example tags in src/).
// A BlockProject is a fresh project with the packed tarball installed, as a user who ran
// `npm install robust-agg` has it: every block becomes one module there, all of them are
// type-checked by one strict tsc run, compiled to JavaScript by one esbuild run, and each runs in
// its own Node process (a few at a time), so no block can lean on what another one set up.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';

/** The repository root. */
export const root = new URL('../..', import.meta.url).pathname;

/** Whether dist/ exists (the tests pack it; `npm test` builds it first). */
export const built = existsSync(join(root, 'dist/index.js'));

/** One ```ts block of the documentation. */
export interface Block {
  /** File it comes from, relative to the root. */
  readonly file: string;
  /** 0-based line of that file where the block's code starts (its first line after the fence). */
  readonly line: number;
  /** The code, as a user would paste it. */
  readonly code: string;
  /** Unique file-system-safe name of the block. */
  readonly name: string;
}

/** What one block printed and how its process ended. */
export interface BlockRun {
  readonly status: number | null;
  readonly stdout: string;
  /** stderr, less the one advert tfjs-backend-cpu prints in Node (not an error of ours). */
  readonly stderr: string;
}

/** A block's name from its file and line: `src/core/random.ts` line 40 → `src-core-random-ts-L40`. */
export function blockName(file: string, line: number): string {
  return `${file.replace(/[^a-z0-9]+/gi, '-').replace(/-md$/, '')}-L${line}`;
}

/** The ```ts (or ```typescript) blocks of a list of lines, fenced by lines that are exactly ```. */
export function fencedBlocks(file: string, lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ file, line: start, code: lines.slice(start, end).join('\n'), name: blockName(file, start) });
    i = end;
  }
  return blocks;
}

const TFJS_ADVERT = /\n?=+\nHi,? (there|looks like)[^\n]*\n=+\n?/s;

/** A fresh project with the packed package installed and every block written as a module. */
export class BlockProject {
  private compileError = '';
  private runs: Map<string, Promise<BlockRun>> | null = null;

  private constructor(
    /** The project's directory (temporary). */
    readonly dir: string,
    private readonly blocks: readonly Block[],
  ) {}

  /**
   * Packs the library as `npm pack` would publish it, installs the tarball under
   * node_modules/robust-agg of a new temporary directory (the peer and type packages come from this
   * repository's node_modules, linked), writes each block as examples/<name>.ts with `export {}`
   * appended (so top-level await works and no two blocks share a scope) and compiles them all to
   * examples/<name>.mjs with one esbuild run.
   */
  static create(prefix: string, blocks: readonly Block[]): BlockProject {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    const tarball = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
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
    for (const b of blocks) writeFileSync(join(dir, 'examples', `${b.name}.ts`), `${b.code}\nexport {};\n`);
    const project = new BlockProject(dir, blocks);
    if (blocks.length > 0) {
      const r = spawnSync(
        join(root, 'node_modules/.bin/esbuild'),
        [
          ...blocks.map((b) => join('examples', `${b.name}.ts`)),
          '--outdir=examples',
          '--out-extension:.js=.mjs',
          '--format=esm',
          '--log-level=error',
        ],
        { cwd: dir, encoding: 'utf8' },
      );
      if (r.status !== 0) project.compileError = `esbuild failed:\n${r.stdout}${r.stderr}`;
    }
    return project;
  }

  /**
   * Type-checks every block with one strict tsc run; returns tsc's report with each error placed at
   * the documentation file and line it comes from ('' when clean).
   */
  typecheck(): { status: number | null; report: string } {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', this.dir], { encoding: 'utf8' });
    const report = (r.stdout + r.stderr).replace(/\S*examples\/(\S+?)\.ts\((\d+),(\d+)\)/g, (all, name: string, l: string) => {
      const b = this.blocks.find((x) => x.name === name);
      return b === undefined ? all : `${b.file}:${b.line + Number(l)}`;
    });
    return { status: r.status, report: report.trim() };
  }

  /**
   * Runs one block (in its own Node process, cwd the project, at most `concurrency` at a time,
   * each for at most `timeoutMs`); the first call starts them all, in order.
   */
  run(block: Block, concurrency = Math.min(2, availableParallelism()), timeoutMs = 60_000): Promise<BlockRun> {
    if (this.compileError !== '') return Promise.resolve({ status: 1, stdout: '', stderr: this.compileError });
    this.runs ??= this.startAll(concurrency, timeoutMs);
    const p = this.runs.get(block.name);
    if (p === undefined) throw new Error(`block ${block.name} is not part of this project`);
    return p;
  }

  private startAll(concurrency: number, timeoutMs: number): Map<string, Promise<BlockRun>> {
    const runs = new Map<string, Promise<BlockRun>>();
    let slots = Math.max(1, concurrency);
    const waiting: (() => void)[] = [];
    const acquire = (): Promise<void> =>
      slots > 0 ? ((slots -= 1), Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve));
    const release = (): void => {
      const next = waiting.shift();
      if (next !== undefined) next();
      else slots += 1;
    };
    for (const b of this.blocks) {
      runs.set(
        b.name,
        acquire().then(() => this.spawnBlock(b, timeoutMs).finally(release)),
      );
    }
    return runs;
  }

  private spawnBlock(b: Block, timeoutMs: number): Promise<BlockRun> {
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join('examples', `${b.name}.mjs`)], { cwd: this.dir, timeout: timeoutMs });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
      child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
      child.on('error', (e) => (stderr += String(e)));
      child.on('close', (code, signal) => {
        if (signal !== null) stderr += `\nkilled by ${signal} (ran past ${timeoutMs} ms?)`;
        resolve({ status: code, stdout, stderr: stderr.replace(TFJS_ADVERT, '') });
      });
    });
  }

  /** Removes the project's directory. */
  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
