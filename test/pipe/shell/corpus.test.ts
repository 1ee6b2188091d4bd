/**
 * The compatibility corpus: every case in corpus.txt is run by `bash -O globstar -O failglob -c`
 * and by sluice's interpreter, each in the same freshly seeded scratch folder, and their stdout,
 * exit status and the files left behind are compared. A case is either identical, or refused by
 * sluice with a clear error before anything runs; any other outcome is a silent difference and
 * fails the test. Exit statuses follow sluice's rule (pipefail, SIGPIPE forgiven downstream of
 * successes), so a status is identical when it equals bash's with `-o pipefail`, or plain bash's
 * where pipefail bash reports a SIGPIPE (141).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import {
  Interpreter,
  parseScript,
  ShellExpansionError,
  ShellState,
  ShSyntaxError,
} from '../../../src/pipe/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

/** Splits corpus.txt into cases: one per line, a here-document case running to its delimiter. */
export function loadCorpus(): string[] {
  const lines = readFileSync(new URL('./corpus.txt', import.meta.url), 'utf8').split('\n');
  const cases: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const docs = [...line.matchAll(/<<(-?)\s*'?([A-Za-z_]+)'?/g)].filter(
      (m) => !line.includes(`<<<${m[0].slice(2)}`),
    );
    let text = line;
    for (const d of docs) {
      for (i++; i < lines.length; i++) {
        text += `\n${lines[i]}`;
        const l = d[1] ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
        if (l === d[2]) break;
      }
    }
    cases.push(text);
  }
  return cases;
}

const SEED: Record<string, string> = {
  'package.json':
    '{\n  "name": "demo",\n  "version": "1.2.3",\n  "scripts": { "build": "tsc" }\n}\n',
  'README.md': '# demo\n\nA  small   demo.\nTODO: write docs\nTODO: tests\n',
  'a.txt': 'apple\nbanana\ncherry\n',
  'b.txt': 'banana\ndate\n',
  'notes.log': 'first note\n',
  'error.log': 'E1\nE2\n',
  'data.csv': 'name,age\nann,31\nbob,27\ncid,45\n',
  '.env': 'FOO=bar\n',
  '.gitignore': '# deps\nnode_modules\ndist\n',
  'build.tmp': 'x\n',
  'tmp/x.tmp': 'x\n',
  'tmp/y.tmp': 'y\n',
  'src/index.ts': "export const x = 1;\n// TODO: more\nimport './util';\n",
  'src/util.ts': 'export function f() {}\n',
  'src/lib/helper.ts': 'export const h = 2;\n',
  'src/lib/.secret.ts': 'secret\n',
  'test/a.test.ts': 'test\n',
  'test/b.test.js': 'test\n',
  'dist/old.js': 'old\n',
  'dist/old.js.map': '{}\n',
  'docs/guide.md': '# guide\nline\n',
  'docs/api.md': '# api\n',
  'scripts/hello.sh': '#!/bin/sh\necho hello "$@"\n',
  'scripts/env.sh': 'SOURCED=yes\n',
};

function seed(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'empty'), { recursive: true });
  for (const [path, content] of Object.entries(SEED)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  chmodSync(join(dir, 'scripts/hello.sh'), 0o755);
  // Fixed times, so archives made from the seed (tar, gzip) are the same bytes in both runs.
  const stamp = (rel: string) => {
    for (const name of readdirSync(join(dir, rel))) {
      const p = join(rel, name);
      if (lstatSync(join(dir, p)).isDirectory()) stamp(p);
      utimesSync(join(dir, p), 1_600_000_000, 1_600_000_000);
    }
  };
  stamp('');
}

/** Every entry under `dir`: path, kind and content digest (links: their target). */
function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(dir, p));
      if (st.isSymbolicLink()) out.push(`l ${p} -> ${readlinkSync(join(dir, p))}`);
      else if (st.isDirectory()) {
        out.push(`d ${p}`);
        walk(p);
      } else {
        const h = createHash('sha1')
          .update(readFileSync(join(dir, p)))
          .digest('hex')
          .slice(0, 12);
        out.push(`f ${p} ${h} ${(st.mode & 0o111) !== 0 ? 'x' : '-'}`);
      }
    }
  };
  walk('');
  return out;
}

interface Outcome {
  stdout: string;
  status: number;
  files: string[];
}

function runBash(
  line: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  pipefail: boolean,
): Promise<Outcome> {
  seed(dir);
  return new Promise((resolve, reject) => {
    const args = [
      '-O',
      'globstar',
      '-O',
      'failglob',
      ...(pipefail ? ['-o', 'pipefail'] : []),
      '-c',
      line,
    ];
    const child = spawn('bash', args, {
      cwd: dir,
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 60_000,
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        stdout,
        status: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15),
        files: snapshot(dir),
      });
    });
  });
}

type SluiceOutcome = Outcome | { refused: string };

async function runSluice(
  line: string,
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<SluiceOutcome> {
  seed(dir);
  let script: ReturnType<typeof parseScript>;
  try {
    script = parseScript(line);
  } catch (e) {
    if (e instanceof ShSyntaxError) return { refused: e.message };
    throw e;
  }
  const chunks: Buffer[] = [];
  const stdout = new Writable({
    write(c: Buffer, _e, cb) {
      chunks.push(c);
      cb();
    },
  });
  const state = new ShellState({ cwd: dir, env, positional: ['bash'] });
  const interp = new Interpreter({ signal: AbortSignal.timeout(60_000), graceMs: 1000 });
  let status: number;
  try {
    status = await interp.run(script, state, { stdin: undefined, stdout, stderr: 'ignore' });
  } catch (e) {
    if (e instanceof ShellExpansionError) status = e.status;
    else if (e instanceof ShSyntaxError) return { refused: e.message };
    else throw e;
  }
  return { stdout: Buffer.concat(chunks).toString('utf8'), status, files: snapshot(dir) };
}

/** Runs `items` through `f`, `limit` at a time. */
async function pool<T, R>(
  items: T[],
  limit: number,
  f: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i]!, i);
      }
    }),
  );
  return out;
}

test(
  'corpus: every line is identical to bash or refused with a clear error',
  { timeout: 600_000 },
  withLeakCheck(
    async (t) => {
      const cases = loadCorpus();
      assert.ok(cases.length >= 250, `the corpus has ${cases.length} cases`);
      const base = mkdtempSync(join(tmpdir(), 'shell-corpus-'));
      const home = join(base, 'home');
      mkdirSync(home);
      const env: NodeJS.ProcessEnv = {
        PATH: `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin`,
        HOME: home,
        LC_ALL: 'C.UTF-8',
        LANG: 'C.UTF-8',
      };
      try {
        const results = await pool(cases, 3, async (line, i) => {
          const dir = join(base, `case-${i}`);
          const bash = await runBash(line, dir, env, false);
          const strict = await runBash(line, dir, env, true);
          const ours = await runSluice(line, dir, env);
          rmSync(dir, { recursive: true, force: true });
          if ('refused' in ours) return { line, kind: 'refused' as const, detail: ours.refused };
          // The reference is bash -o pipefail; plain bash only where pipefail bash met a SIGPIPE
          // (status 141 somewhere), which sluice's rule forgives downstream of successes.
          const equal = (a: Outcome, b: Outcome) =>
            a.stdout === b.stdout &&
            a.status === b.status &&
            a.files.join('\n') === b.files.join('\n');
          if (equal(ours, strict))
            return { line, kind: 'identical' as const, detail: equal(bash, strict) ? '' : 'rule' };
          const sigpipe = strict.status === 141 || /\b141\b/.test(strict.stdout);
          if (sigpipe && equal(ours, bash))
            return { line, kind: 'identical' as const, detail: 'rule' };
          const statusOk =
            ours.status === strict.status || (sigpipe && ours.status === bash.status);
          const why = [
            ours.stdout !== strict.stdout
              ? `stdout ${JSON.stringify(ours.stdout)} vs bash -o pipefail ${JSON.stringify(strict.stdout)}`
              : '',
            !statusOk
              ? `status ${ours.status} vs bash ${bash.status} (pipefail ${strict.status})`
              : '',
            ours.files.join('\n') !== strict.files.join('\n')
              ? `files: ${ours.files.filter((f) => !strict.files.includes(f)).join(', ')} vs bash ${strict.files.filter((f) => !ours.files.includes(f)).join(', ')}`
              : '',
          ]
            .filter(Boolean)
            .join('; ');
          return { line, kind: 'different' as const, detail: why };
        });
        const count = (k: string) => results.filter((r) => r.kind === k).length;
        const byRule = results.filter((r) => r.kind === 'identical' && r.detail === 'rule').length;
        t.diagnostic(
          `corpus: ${cases.length} cases: ${count('identical')} identical (${byRule} where bash and bash -o pipefail disagree), ${count('refused')} refused, ${count('different')} silently different`,
        );
        for (const r of results.filter((x) => x.kind === 'refused'))
          t.diagnostic(`refused: ${r.line.split('\n')[0]} → ${r.detail}`);
        const diffs = results.filter((r) => r.kind === 'different');
        assert.deepEqual(
          diffs.map((d) => `${d.line}\n    ${d.detail}`),
          [],
          'silent differences',
        );
      } finally {
        rmSync(base, { recursive: true, force: true });
      }
    },
    { timeoutMs: 15_000 },
  ),
);
