/**
 * Injection safety as a property: template values full of shell syntax (quotes, `$(…)`,
 * backquotes, `;`, `|`, newlines, globs, `~`, redirections, braces, empty strings), put in every
 * place a value can go, arrive as exactly the argv words intended, and never run anything.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { sh } from '../../../src/pipe/index.js';
import { withLeakCheck } from '../../helpers/leaks.js';

const argv = fileURLToPath(new URL('./fixtures/argv.sh', import.meta.url));

const NASTY = [
  "'",
  '"',
  '\\',
  '$(touch pwned)',
  '`touch pwned`',
  '; touch pwned',
  '| touch pwned',
  '&& touch pwned',
  '\n',
  '\ntouch pwned\n',
  '*',
  '?',
  '[ab]',
  '**/*',
  '~',
  '~root',
  '> pwned',
  '2>&1',
  '< /etc/passwd',
  '{a,b}',
  '{1..3}',
  '$HOME',
  '\u0024{HOME}',
  '$?',
  '$$',
  '#',
  ' ',
  '\t',
  '',
  'a',
  'EOF',
  '&',
  '(',
  ')',
  '!',
  "$'x'",
  '=',
  'X=1',
];

const value = fc
  .oneof(
    fc.array(fc.constantFrom(...NASTY), { maxLength: 6 }).map((a) => a.join('')),
    fc.string({ maxLength: 12 }),
  )
  .map((s) => s.replaceAll('\0', ''));

/** The words argv.sh received. */
function words(out: Buffer): string[] {
  const parts = out.toString('utf8').split('\0');
  parts.pop();
  return parts;
}

test(
  'property: a value is exactly the intended word(s) in every position and never runs anything',
  { timeout: 300_000 },
  withLeakCheck(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shell-inject-'));
    try {
      const run = async (p: { stdout: Buffer } | PromiseLike<{ stdout: Buffer }>) =>
        (await p).stdout;
      const o = { cwd: dir };
      const cases: ((v: string, w: string) => Promise<[string[], string[]]>)[] = [
        async (v) => [words(await run(sh(o)`${argv} ${v}`)), [v]],
        async (v) => [words(await run(sh(o)`${argv} x${v}y`)), [`x${v}y`]],
        async (v) => [words(await run(sh(o)`${argv} "${v}"`)), [v]],
        async (v, w) => [words(await run(sh(o)`${argv} "a ${v} b${w}"`)), [`a ${v} b${w}`]],
        async (v) => [words(await run(sh(o)`${argv} '${v}'`)), [v]],
        async (v, w) => [words(await run(sh(o)`${argv} ${[v, w]} z`)), [v, w, 'z']],
        async (v) => [words(await run(sh(o)`X=${v}; ${argv} "$X"`)), [v]],
        async (v) => [words(await run(sh(o)`${argv} \${UNSET_VAR_XYZ:-${v}}`)), [v]],
        async (v) => [
          words(await run(sh(o)`${argv} "$(printf %s ${v})"`)),
          [v.replace(/\n+$/, '')],
        ],
        async (v) => [
          [
            (
              await run(sh(o)`cat <<EOF
${v}
EOF`)
            ).toString(),
          ],
          [`${v}\n`],
        ],
        async (v) => [[(await run(sh(o)`cat <<< ${v}`)).toString()], [`${v}\n`]],
        async (v) => [words(await run(sh(o)`X=${v} sh -c ${'printf "%s\\0" "$X"'}`)), [v]],
        async (v, w) => [words(await run(sh(o)`${argv} ${v} | ${argv} ${w}`)), [w]],
        async (v) => [words(await run(sh(o)`${argv} ${v} && ${argv} ok`)), [v, 'ok']],
      ];
      await fc.assert(
        fc.asyncProperty(fc.nat(cases.length - 1), value, value, async (i, v, w) => {
          const [got, want] = await cases[i]!(v, w);
          assert.deepEqual(got, want, `case ${i}`);
          assert.equal(existsSync(join(dir, 'pwned')), false, 'something ran');
        }),
        { numRuns: 250 },
      );
      // Redirection targets: a value after > is exactly one file name.
      await fc.assert(
        fc.asyncProperty(
          value.filter(
            (s) => s !== '' && s !== '.' && s !== '..' && !s.includes('/') && s.length < 40,
          ),
          async (name) => {
            await sh(o)`${argv} x > ${name}`;
            assert.deepEqual(readdirSync(dir), [name]);
            rmSync(join(dir, name));
          },
        ),
        { numRuns: 60 },
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }),
);
