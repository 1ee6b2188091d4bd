/**
 * The coordinator's ledger for one run: which items await a result, and the counters of what came
 * back. It is where "exactly one result per accepted submit" is kept: the first result for a
 * pending id is delivered, any other (a re-run's, an earlier run's, an undecodable one) is only
 * counted. A result that overtakes its own publish acknowledgement waits until the publish is
 * known to have succeeded, so a submit that rejects never has a result.
 */
import { randomBytes } from 'node:crypto';
import type { Result } from '../../flow/index.js';
import { DeadLetterError } from '../errors.js';
import { type ResultEnvelope, toResult } from '../wire/envelope.js';
import { ServiceHistogram } from '../wire/histogram.js';

interface Pending {
  /** Its publish has not been acknowledged yet. */
  publishing: boolean;
  /** A result that came before the acknowledgement. */
  early: ResultEnvelope | undefined;
}

export class Ledger<R> {
  /** This run's id: the prefix of every item id, so later results of other runs are told apart. */
  readonly run = randomBytes(6).toString('hex');
  #seq = 0;
  readonly #pending = new Map<string, Pending>();
  readonly #maxDeliver: number;
  readonly #deliver: (result: Result<R>) => void;
  /** Service times of the accepted runs (dead letters have none). */
  readonly hist = new ServiceHistogram();
  publishing = 0;
  submitted = 0;
  completed = 0;
  failed = 0;
  panicked = 0;
  canceled = 0;
  serviceMs = 0;
  duplicates = 0;
  stale = 0;
  deadLettered = 0;
  malformed = 0;

  /** `deliver` receives every result handed out (accepted or canceled). */
  constructor(maxDeliver: number, deliver: (result: Result<R>) => void) {
    this.#maxDeliver = maxDeliver;
    this.#deliver = deliver;
  }

  /** Items awaiting a result (publishing ones included). */
  get outstanding(): number {
    return this.#pending.size;
  }

  /** Nothing awaits a result and no publish is under way. */
  get settled(): boolean {
    return this.#pending.size === 0 && this.publishing === 0;
  }

  /** A new item id, pending from now on; its publish is under way. */
  begin(): string {
    const id = `${this.run}.${++this.#seq}`;
    this.#pending.set(id, { publishing: true, early: undefined });
    this.publishing++;
    return id;
  }

  /** Its publish was acknowledged: the item is accepted (a result that came early goes out now). */
  stored(id: string): void {
    this.publishing--;
    this.submitted++;
    const p = this.#pending.get(id);
    if (p === undefined) return; // canceled meanwhile: it has its result already
    p.publishing = false;
    const early = p.early;
    if (early !== undefined) {
      p.early = undefined;
      this.#accept(id, early);
    }
  }

  /**
   * Its publish failed. Returns true when the submit must reject (the item is forgotten, and a
   * result that comes for it later is dropped); false when the stage was canceled meanwhile and
   * the item already has its canceled result, so the submit counts as accepted.
   */
  unstored(id: string): boolean {
    this.publishing--;
    if (!this.#pending.has(id)) {
      this.submitted++;
      return false;
    }
    this.#pending.delete(id);
    return true;
  }

  /** A result message: `envelope` is undefined when it could not be decoded. */
  onResult(envelope: ResultEnvelope | undefined): void {
    if (envelope === undefined) {
      this.malformed++;
      return;
    }
    const id = envelope.id;
    if (!id.startsWith(`${this.run}.`)) {
      this.stale++;
      return;
    }
    const p = this.#pending.get(id);
    if (p === undefined || p.early !== undefined) {
      this.duplicates++;
      return;
    }
    if (p.publishing) p.early = envelope;
    else this.#accept(id, envelope);
  }

  #accept(id: string, envelope: ResultEnvelope): void {
    this.#pending.delete(id);
    this.completed++;
    if (envelope.deadLetter) {
      this.deadLettered++;
      this.failed++;
      this.#deliver({ ok: false, error: new DeadLetterError(this.#maxDeliver) });
      return;
    }
    if (!envelope.ok) this.failed++;
    if (envelope.panicked) this.panicked++;
    this.serviceMs += envelope.serviceMs;
    this.hist.record(envelope.serviceMs);
    this.#deliver(toResult<R>(envelope));
  }

  /** Ends every pending item with a canceled result carrying `reason`. */
  cancelAll(reason: unknown): void {
    for (const id of [...this.#pending.keys()]) {
      this.#pending.delete(id);
      this.canceled++;
      this.#deliver({ ok: false, error: reason });
    }
  }
}
