// The tarball as `npm pack` makes it: what it holds, and that TypeScript users find the types of
// all three entries under every moduleResolution a project may still use (node10 needs typesVersions).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const built = existsSync(join(root, 'dist/index.js'));

describe.runIf(built)('the packed tarball', () => {
  let dir = '';
  let files: string[] = [];

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'robust-agg-pack-'));
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8' });
    const info = JSON.parse(out.slice(out.indexOf('['))) as { filename: string; files: { path: string }[] }[];
    files = info[0].files.map((f) => f.path);
    const pkg = join(dir, 'node_modules/robust-agg');
    mkdirSync(pkg, { recursive: true });
    execFileSync('tar', ['xzf', join(dir, info[0].filename), '-C', pkg, '--strip-components=1']);
    symlinkSync(join(root, 'node_modules/@tensorflow'), join(dir, 'node_modules/@tensorflow'));
    writeFileSync(
      join(dir, 'use.ts'),
      [
        "import { krum } from 'robust-agg';",
        "import { tensorKrum } from 'robust-agg/tfjs';",
        "import { rnp } from 'robust-agg/defenses';",
        'const k: Float32Array = krum([new Float32Array(1), new Float32Array(1), new Float32Array(1)], { f: 0 });',
        'export const used = [typeof tensorKrum, typeof rnp, k.length];',
      ].join('\n'),
    );
  }, 120_000);

  afterAll(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('holds the build, README and LICENSE, and no source maps or sources', () => {
    expect(files).toContain('LICENSE');
    expect(files).toContain('README.md');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/tfjs/index.d.ts');
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([]);
  });

  for (const [resolution, module] of [
    ['node10', 'commonjs'],
    ['node16', 'node16'],
    ['bundler', 'esnext'],
  ]) {
    it(`types of the three entries resolve under moduleResolution ${resolution}`, () => {
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const args = [tsc, '--noEmit', '--strict', '--skipLibCheck', '--moduleResolution', resolution, '--module', module, 'use.ts'];
      const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
      expect(r.stdout + r.stderr).toBe('');
      expect(r.status).toBe(0);
    }, 60_000);
  }
});
