/**
 * The coordinator's ledger alone (no server): the rules that make one result per accepted
 * submit, including the orders a network can produce (a result before its publish is
 * acknowledged, a publish that fails after a cancel, duplicates, an earlier run's results).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Ledger } from '../../src/cluster/coordinator/ledger.js';
import { DeadLetterError, RemoteError } from '../../src/cluster/index.js';
import type { ResultEnvelope } from '../../src/cluster/wire/envelope.js';
import type { Result } from '../../src/flow/index.js';

function make() {
  const out: Result<number>[] = [];
  const ledger = new Ledger<number>(3, (r) => out.push(r));
  const ok = (id: string, value: number): ResultEnvelope => ({
    id,
    ok: true,
    value,
    worker: 'w',
    serviceMs: 2,
  });
  return { ledger, out, ok };
}

describe('cluster ledger', () => {
  it('delivers the first result for an id and counts every later one as a duplicate', () => {
    const { ledger, out, ok } = make();
    const id = ledger.begin();
    ledger.stored(id);
    ledger.onResult(ok(id, 1));
    ledger.onResult(ok(id, 2));
    assert.deepEqual(out, [{ ok: true, value: 1 }]);
    assert.equal(ledger.duplicates, 1);
    assert.equal(ledger.completed, 1);
    assert.equal(ledger.submitted, 1);
    assert.ok(ledger.settled);
  });

  it('holds a result that overtakes its publish acknowledgement until the publish is known to have succeeded', () => {
    const { ledger, out, ok } = make();
    const id = ledger.begin();
    ledger.onResult(ok(id, 7));
    ledger.onResult(ok(id, 8)); // a second copy while the first waits
    assert.deepEqual(out, []);
    ledger.stored(id);
    assert.deepEqual(out, [{ ok: true, value: 7 }]);
    assert.equal(ledger.duplicates, 1);
  });

  it('drops the early result of a publish that failed: a rejected submit has no result', () => {
    const { ledger, out, ok } = make();
    const id = ledger.begin();
    ledger.onResult(ok(id, 7));
    assert.equal(ledger.unstored(id), true);
    ledger.onResult(ok(id, 7));
    assert.deepEqual(out, []);
    assert.equal(ledger.submitted, 0);
    assert.ok(ledger.settled);
  });

  it('counts a publish that fails after a cancel as accepted, since it already has its canceled result', () => {
    const { ledger, out } = make();
    const id = ledger.begin();
    ledger.cancelAll(new Error('stop'));
    assert.equal(out.length, 1);
    assert.equal(ledger.unstored(id), false);
    assert.equal(ledger.submitted, 1);
    assert.equal(ledger.canceled, 1);
    assert.equal(ledger.submitted, ledger.completed + ledger.canceled);
  });

  it('drops results of another run and undecodable ones', () => {
    const { ledger, out, ok } = make();
    ledger.onResult(ok('otherrun.1', 1));
    ledger.onResult(undefined);
    assert.deepEqual(out, []);
    assert.equal(ledger.stale, 1);
    assert.equal(ledger.malformed, 1);
  });

  it('turns errors, panics and dead letters into failed results with the right counters', () => {
    const { ledger, out } = make();
    const [a, b, c] = [ledger.begin(), ledger.begin(), ledger.begin()];
    for (const id of [a, b, c]) ledger.stored(id);
    ledger.onResult({
      id: a,
      ok: false,
      error: { name: 'TypeError', message: 'm', code: 'E' },
      worker: 'w',
      serviceMs: 1,
    });
    ledger.onResult({
      id: b,
      ok: false,
      error: { name: 'PanicError', message: 'p', code: 'ERR_SLUICE_PANIC' },
      panicked: true,
      worker: 'w',
      serviceMs: 1,
    });
    ledger.onResult({
      id: c,
      ok: false,
      deadLetter: true,
      error: { name: 'DeadLetterError', message: 'd' },
      worker: 'w',
      serviceMs: 0,
    });
    const [ea, eb, ec] = out.map((r) => (r.ok ? undefined : r.error));
    assert.ok(ea instanceof RemoteError && ea.name === 'TypeError' && ea.code === 'E');
    assert.ok(eb instanceof RemoteError && eb.code === 'ERR_SLUICE_PANIC');
    assert.ok(ec instanceof DeadLetterError && ec.deliveries === 3);
    assert.deepEqual(
      [ledger.completed, ledger.failed, ledger.panicked, ledger.deadLettered],
      [3, 3, 1, 1],
    );
    const d = ledger.hist.summary();
    assert.equal(d.count + d.underflow + d.overflow, ledger.completed - ledger.deadLettered);
  });
});
