/**
 * The package works outside its clone: packed, installed into an empty project with a fresh
 * `npm install`, imported, run through `npx sluice`, and type-checked against the shipped types.
 *
 * Needs the npm registry (for the tarball's dependencies) and a built `dist/` (`npm install`
 * builds it through `prepare`; CI builds before testing).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { withLeakCheck } from '../helpers/leaks.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  exports: Record<string, unknown>;
  allowScripts: Record<string, boolean>;
};

/** Every entry point a user can import, from the exports map (`.` → `sluice`). */
const entryPoints = Object.keys(pkg.exports)
  .filter((k) => k !== './package.json')
  .map((k) => (k === '.' ? 'sluice' : `sluice/${k.slice(2)}`));

let work = '';
let project = '';
let installLog = '';

describe('package: packed, installed into an empty project, used', () => {
  before(async () => {
    assert.ok(
      existsSync(join(root, 'dist/cli/main.js')),
      'dist/ is missing: run `npm run build` (npm install runs it through prepare)',
    );
    assert.ok(!existsSync(join(root, 'package.json.pack-backup')), 'a pack is under way');
    work = mkdtempSync(join(tmpdir(), 'pack-'));
    // The real `npm pack`, scripts included: prepack builds dist/ and strips `prepare` from the
    // packed manifest, postpack restores the working copy's.
    const packed = await run('npm', ['pack', '--pack-destination', work], {
      cwd: root,
      maxBuffer: 64 * 1024 * 1024,
    });
    const tarball = join(work, packed.stdout.trim().split('\n').pop() ?? '');
    assert.ok(!existsSync(join(root, 'package.json.pack-backup')), 'postpack did not restore');
    project = join(work, 'project');
    await run('mkdir', [project]);
    // What the README tells a user to put in a fresh project: ESM, and the install scripts
    // sluice's native dependencies need, approved (npm 11 warns about any not covered).
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify(
        { name: 'fresh', private: true, type: 'module', allowScripts: pkg.allowScripts },
        null,
        2,
      ),
    );
    const installed = await run('npm', ['install', '--no-audit', '--no-fund', tarball], {
      cwd: project,
      maxBuffer: 64 * 1024 * 1024,
    });
    installLog = `${installed.stdout}\n${installed.stderr}`;
  });

  after(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('npm install prints no warning', () => {
    const warnings = installLog.split('\n').filter((l) => /npm (warn|WARN|ERR)/.test(l));
    assert.deepEqual(warnings, [], installLog);
  });

  test('the tarball ships the built code, its types and docs, and no test or bench file', () => {
    const base = join(project, 'node_modules/sluice');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'README.md']) {
      assert.ok(existsSync(join(base, f)), `${f} is not in the package`);
    }
    for (const f of ['test', 'bench', 'src', 'node_modules/.bin/tsx']) {
      assert.ok(!existsSync(join(base, f)), `${f} should not be in the package`);
    }
  });

  test(
    'every entry point imports outside the clone',
    withLeakCheck(async () => {
      const script = `for (const m of ${JSON.stringify(entryPoints)}) { const x = await import(m); if (Object.keys(x).length === 0) throw new Error(m + ' exports nothing'); } console.log('ok');`;
      const r = await run(process.execPath, ['--input-type=module', '-e', script], {
        cwd: project,
      });
      assert.equal(r.stdout.trim(), 'ok');
    }),
  );

  test(
    'npx sluice --version and a sluice run work from the installed package',
    withLeakCheck(async () => {
      const v = await run('npx', ['--no-install', 'sluice', '--version'], { cwd: project });
      assert.equal(v.stdout.trim(), pkg.version);
      const r = await run('npx', ['--no-install', 'sluice', 'run', 'printf "a\\nb\\n" | wc -l'], {
        cwd: project,
      });
      assert.equal(r.stdout.trim(), '2');
    }),
  );

  test(
    'a strict TypeScript file type-checks against the shipped types',
    withLeakCheck(async () => {
      const lines = entryPoints.map((m, i) => `import * as m${i} from '${m}';`);
      lines.push(`export const parts = [${entryPoints.map((_, i) => `m${i}`).join(', ')}];`);
      lines.push(
        "import { pipeline, command } from 'sluice/pipe';",
        'export async function demo(): Promise<string> {',
        "  return pipeline().add(command('echo', ['hi'])).text();",
        '}',
      );
      writeFileSync(join(project, 'use.ts'), `${lines.join('\n')}\n`);
      writeFileSync(
        join(project, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module: 'NodeNext',
            moduleResolution: 'NodeNext',
            target: 'ES2022',
            lib: ['ES2023', 'ESNext.Disposable', 'ESNext.AsyncIterable'],
            typeRoots: [join(root, 'node_modules/@types')],
            types: ['node'],
            skipLibCheck: false,
          },
          files: ['use.ts'],
        }),
      );
      const tsc = join(root, 'node_modules/typescript/bin/tsc');
      const r = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project }).catch(
        (e: { stdout?: string }) => ({ stdout: e.stdout ?? String(e) }),
      );
      assert.equal(r.stdout.trim(), '');
    }),
  );
});
