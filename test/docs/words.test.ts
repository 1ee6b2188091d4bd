/**
 * The docs speak to users about sluice alone: no word that only makes sense to the people who
 * built it (their planning documents, tracker numbers or internal notes), and no link to a file
 * the published package does not ship.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, test } from 'node:test';

const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { files: string[] };

const docs = [
  'README.md',
  'CHANGELOG.md',
  ...readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** Words and phrases that point at the team's own material instead of at sluice. */
const teamWords: RegExp[] = [
  /\bseeds?\b(?! ?(data|value|random))/i,
  /\bissues? #?\d+/i,
  /\bthe brief\b/i,
  /\bDESIGN(\.md|'s)\b/,
  /\breference\/\w+\.md\b/,
  /\bthe (lead|team)\b/i,
  /\bengineers?\b/i,
  /\bshared\/(seeds|reference|DESIGN)/,
  /\bacceptance (check|criteri)/i,
];

describe('docs: written for users', () => {
  for (const doc of docs) {
    test(`${doc} has no team-only words`, () => {
      const found: string[] = [];
      for (const [i, line] of readFileSync(join(root, doc), 'utf8').split('\n').entries()) {
        for (const w of teamWords) {
          const m = w.exec(line);
          if (m) found.push(`${doc}:${i + 1}: "${m[0]}" in: ${line.trim()}`);
        }
      }
      assert.deepEqual(found, []);
    });
  }

  test('links between shipped docs point at files that are shipped', () => {
    const shipped = (path: string) => pkg.files.some((f) => path === f || path.startsWith(`${f}/`));
    const broken: string[] = [];
    for (const doc of docs.filter((d) => shipped(d))) {
      const text = readFileSync(join(root, doc), 'utf8');
      for (const m of text.matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        const target = m[1] ?? '';
        if (/^[a-z]+:/i.test(target)) continue; // a URL
        const path = join(dirname(doc), target);
        if (!existsSync(join(root, path))) broken.push(`${doc}: ${target} does not exist`);
        else if (!shipped(path)) broken.push(`${doc}: ${target} is not in the published package`);
      }
    }
    assert.deepEqual(broken, []);
  });
});
