/**
 * Every code block in README.md and docs/*.md is checked, so the docs cannot drift from the code:
 *
 * - every ```ts block is type-checked (strict) against the current source, with `sluice/*`
 *   imports resolved to src/; a block that is a fragment of a larger program declares what it
 *   uses in a comment-free `declare const …` line or imports it, like any module;
 * - a ```ts block whose info string says `run` is also executed (with tsx, in a scratch folder);
 *   every `// prints: TEXT` comment in it is one line the block must print, in order, and
 *   nothing else may be printed; `run daemon` blocks get a private sessions daemon
 *   (`SLUICE_SOCKET`), started before and stopped after;
 * - every `sluice …` line in a ```sh block names a real subcommand and only options it accepts.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { withLeakCheck } from '../helpers/leaks.js';
import { waitFor } from '../helpers/wait.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

interface Block {
  doc: string;
  line: number;
  lang: string;
  flags: string[];
  code: string;
}

/** The fenced blocks of one markdown file, with the line each starts on. */
function blocksOf(path: string): Block[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w+)?(.*)$/.exec(lines[i] ?? '');
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] ?? ''); i++) body.push(lines[i] ?? '');
    out.push({
      doc: relative(root, path),
      line: start + 1,
      lang: open[1] ?? '',
      flags: (open[2] ?? '').trim().split(/\s+/).filter(Boolean),
      code: body.join('\n'),
    });
  }
  return out;
}

const docs = [
  join(root, 'README.md'),
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join(root, 'docs', f)),
];
const blocks = docs.flatMap(blocksOf);
const tsBlocks = blocks.filter((b) => b.lang === 'ts' || b.lang === 'typescript');
const shBlocks = blocks.filter((b) => b.lang === 'sh' || b.lang === 'bash' || b.lang === 'shell');

/** The scratch folder lives inside the clone so that node_modules resolve as they do for src/. */
const scratch = join(root, '.tmp', `doc-blocks-${process.pid}`);
const fileOf = (b: Block) => join(scratch, `${b.doc.replace(/[^a-z0-9]+/gi, '-')}-L${b.line}.ts`);

describe('docs: every code block is checked', () => {
  before(() => {
    mkdirSync(scratch, { recursive: true });
    for (const b of tsBlocks) writeFileSync(fileOf(b), `${b.code}\nexport {};\n`);
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        extends: '../../tsconfig.json',
        compilerOptions: {
          noEmit: true,
          baseUrl: '.',
          paths: {
            sluice: ['../../src/index.ts'],
            'sluice/*': ['../../src/*/index.ts'],
          },
        },
        include: ['*.ts'],
      }),
    );
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('there are code blocks to check', () => {
    assert.ok(tsBlocks.length >= 5, `only ${tsBlocks.length} ts blocks found`);
  });

  test('every ts block type-checks against the source', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', join(scratch, 'tsconfig.json')], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? String(e) }));
    // Name the doc and its line instead of the scratch file.
    const report = r.stdout.replace(
      /^\.tmp\/doc-blocks-\d+\/(.*?)-L(\d+)\.ts\((\d+),(\d+)\)/gm,
      (_m, name: string, start: string, l: string) => {
        const b = tsBlocks.find((x) => fileOf(x).endsWith(`${name}-L${start}.ts`));
        return `${b?.doc ?? name}:${Number(start) + Number(l)}`;
      },
    );
    assert.equal(report.trim(), '', report);
  });

  for (const b of tsBlocks.filter((x) => x.flags.includes('run'))) {
    test(
      `${b.doc}:${b.line} runs and prints what its comments say`,
      withLeakCheck(
        async () => {
          const expected = [...b.code.matchAll(/\/\/ prints: (.*)$/gm)].map((m) => m[1] ?? '');
          const cwd = mkdtempSync(join(tmpdir(), 'doc-run-'));
          const env: NodeJS.ProcessEnv = {
            ...process.env,
            TSX_TSCONFIG_PATH: join(scratch, 'tsconfig.json'),
          };
          let daemon: ReturnType<typeof spawn> | undefined;
          try {
            if (b.flags.includes('daemon')) {
              env.SLUICE_SOCKET = join(cwd, 'daemon.sock');
              daemon = spawn(
                process.execPath,
                ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'daemon'],
                { env, stdio: 'ignore' },
              );
              await waitFor(() => readdirSync(cwd).includes('daemon.sock'), {
                timeoutMs: 15_000,
              });
            }
            // The block runs in a scratch cwd, where a bare 'tsx' does not resolve: name it by URL.
            const r = await run(
              process.execPath,
              ['--import', import.meta.resolve('tsx'), fileOf(b)],
              {
                cwd,
                env,
                timeout: 60_000,
              },
            );
            assert.deepEqual(r.stdout.trimEnd().split('\n'), expected);
          } finally {
            if (daemon && daemon.exitCode === null) {
              const gone = new Promise((res) => daemon?.once('exit', res));
              daemon.kill('SIGTERM');
              await gone;
            }
            rmSync(cwd, { recursive: true, force: true });
          }
        },
        { timeoutMs: 10_000 },
      ),
    );
  }

  test('every sluice command in a sh block names a real subcommand and real options', async () => {
    const problems: string[] = [];
    const helpOf = new Map<string, string>();
    for (const b of shBlocks) {
      for (const [i, raw] of b.code.split('\n').entries()) {
        const line = raw.replace(/#.*$/, '').trim();
        const m = /(?:^|[|;&(]\s*|\$\()(?:npx\s+)?sluice\s+([a-z][\w-]*)(.*)$/.exec(line);
        if (!m) continue;
        const sub = m[1] ?? '';
        if (!helpOf.has(sub)) {
          const h = await run(
            process.execPath,
            ['--import', 'tsx', join(root, 'src/cli/main.ts'), sub, '--help'],
            { cwd: root },
          ).catch((e: { stdout?: string; stderr?: string }) => ({ stdout: '', stderr: e.stderr }));
          helpOf.set(sub, h.stdout);
        }
        const help = helpOf.get(sub) ?? '';
        if (!help) {
          problems.push(`${b.doc}:${b.line + i + 1}: no subcommand "${sub}"`);
          continue;
        }
        // Options before `--` or the end of the command (a quoted argument is not an option).
        const args = (m[2] ?? '').split(/\s--\s|\s--$|[|;&)]/)[0] ?? '';
        for (const opt of args
          .replace(/'[^']*'|"[^"]*"/g, '')
          .matchAll(/(?:^|\s)(--?[a-zA-Z][\w-]*)/g)) {
          const name = opt[1] ?? '';
          if (!new RegExp(`(^|[\\s,])${name}\\b`, 'm').test(help)) {
            problems.push(`${b.doc}:${b.line + i + 1}: sluice ${sub} has no option ${name}`);
          }
        }
      }
    }
    assert.deepEqual(problems, []);
  });
});
