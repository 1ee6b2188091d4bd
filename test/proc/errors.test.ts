/**
 * The shared error vocabulary: every error is a SluiceError with a stable code, and `instanceof`
 * holds across two copies of the package (two versions installed side by side), through the
 * `Symbol.for('sluice.error')` brand rather than the prototype chain.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import * as root from '../../src/index.js';
import {
  InvalidOptionError,
  InvalidPidError,
  PanicError,
  ProcError,
  SluiceError,
  toError,
} from '../../src/proc/index.js';

const here = resolve(import.meta.dirname, '../..');

describe('proc: one error vocabulary', () => {
  test('every part and the root export the same SluiceError and InvalidOptionError', () => {
    assert.equal(root.SluiceError, SluiceError);
    for (const part of [root.pipe, root.flow, root.supervisor, root.sessions, root.cluster]) {
      assert.equal(part.SluiceError, SluiceError);
      assert.equal(part.InvalidOptionError, InvalidOptionError);
    }
  });

  test('codes are stable and follow ERR_SLUICE_<AREA>_<WHAT>; causes chain', () => {
    const cause = new Error('root cause');
    const e = new InvalidOptionError('graceMs', 'must be a non-negative integer', { cause });
    assert.equal(e.code, 'ERR_SLUICE_INVALID_OPTION');
    assert.equal(e.option, 'graceMs');
    assert.equal(e.name, 'InvalidOptionError');
    assert.equal(e.cause, cause);
    assert.match(e.message, /^graceMs: /);
    assert.match(new InvalidPidError(0, 'zero').code, /^ERR_SLUICE_PROC_[A-Z_]+$/);
  });

  test('a thrown non-Error is a PanicError, never a success; an Error passes as it is', () => {
    for (const value of [undefined, null, 'text', 42, { a: 1 }]) {
      const { error, panicked } = toError(value, 'stage "x"');
      assert.ok(panicked);
      assert.ok(error instanceof PanicError);
      assert.equal((error as PanicError).value, value);
      assert.match(error.message, /^stage "x" threw a non-Error value: /);
    }
    const plain = new TypeError('boom');
    assert.deepEqual(toError(plain), { error: plain, panicked: false });
  });

  test('instanceof works across two copies of the error module', async () => {
    // A second copy of the module, as a second installed version of sluice would be.
    const dir = mkdtempSync(join(tmpdir(), 'sluice-copy-'));
    try {
      cpSync(join(here, 'src/proc/errors.ts'), join(dir, 'errors.ts'));
      const other = (await import(pathToFileURL(join(dir, 'errors.ts')).href)) as {
        InvalidPidError: typeof InvalidPidError;
        SluiceError: typeof SluiceError;
        ProcError: typeof ProcError;
      };
      assert.notEqual(other.SluiceError, SluiceError);
      const foreign = new other.InvalidPidError(-1, 'negative');
      assert.ok(foreign instanceof SluiceError);
      assert.ok(foreign instanceof ProcError);
      assert.ok(foreign instanceof InvalidPidError);
      assert.ok(!(foreign instanceof InvalidOptionError));
      const mine = new InvalidOptionError('x', 'bad');
      assert.ok(mine instanceof other.SluiceError);
      assert.ok(!(mine instanceof other.ProcError));
      // Plain errors and look-alikes without the brand are not sluice errors.
      assert.ok(!(new Error('x') instanceof SluiceError));
      assert.ok(!(Object.assign(new Error('x'), { code: 'ERR_SLUICE_X' }) instanceof SluiceError));
      assert.ok(!((null as unknown) instanceof SluiceError));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
