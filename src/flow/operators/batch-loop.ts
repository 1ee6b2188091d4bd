/**
 * The loop shared by `batcher` and `weightedBatcher`: read the source to its end, gather ok
 * values, flush a batch when its weight or its count reaches the threshold, treat an error as a
 * batch boundary (flush what is gathered, then forward the error), flush the rest at the end.
 * After a cancel it reads on and drops everything, partial batch included. Internal to flow.
 */

import { err, ok, type Result } from '../result.js';
import { iteratorOf, type Source } from '../stage/feeder.js';
import { invalid } from '../validate.js';
import { Channel, onAbort } from './channel.js';

export interface BatchCounters {
  received: number;
  emitted: number;
  forwarded: number;
  dropped: number;
  bufferedDepth: number;
  bufferedWeight: number;
  batchCount: number;
}

export class BatchLoop<T> {
  readonly out = new Channel<Result<T[]>>();
  readonly c: BatchCounters = {
    received: 0,
    emitted: 0,
    forwarded: 0,
    dropped: 0,
    bufferedDepth: 0,
    bufferedWeight: 0,
    batchCount: 0,
  };
  /** Set when the cancel made the loop drop something: what `wait()` rejects with. */
  cancelled: { reason: unknown } | undefined;
  readonly done: Promise<void>;
  private readonly signal: AbortSignal | undefined;
  private batch: T[] = [];

  constructor(
    source: Source<T>,
    private readonly threshold: number,
    private readonly weightFn: ((item: T) => number) | undefined,
    signal: AbortSignal | undefined,
  ) {
    this.signal = signal;
    const it = iteratorOf(source);
    const remove = onAbort(signal, () => this.out.cancelSends());
    this.done = this.run(it).finally(() => {
      remove();
      this.out.close();
    });
  }

  private noteCancel(): void {
    if (this.cancelled === undefined) this.cancelled = { reason: this.signal?.reason };
  }

  private get aborted(): boolean {
    return this.signal?.aborted === true;
  }

  private async run(it: AsyncIterator<Result<T>> | Iterator<Result<T>>): Promise<void> {
    for (;;) {
      let step: IteratorResult<Result<T>>;
      try {
        step = await it.next();
      } catch (error) {
        this.c.received++;
        if (!(await this.flush())) this.c.dropped++;
        else await this.forward(err(error));
        break;
      }
      if (step.done) break;
      this.c.received++;
      if (this.aborted) {
        this.noteCancel();
        this.dropBatch();
        this.c.dropped++;
        continue;
      }
      const r = step.value;
      if (!r.ok) {
        if (await this.flush()) await this.forward(r as Result<never>);
        else this.c.dropped++;
        continue;
      }
      let w = 1;
      if (this.weightFn !== undefined) {
        try {
          w = this.weightFn(r.value);
        } catch (error) {
          if (await this.flush()) await this.forward(err(error));
          else this.c.dropped++;
          continue;
        }
        if (typeof w !== 'number' || !(w >= 0) || !Number.isFinite(w)) {
          // A bad weight is a bug in weightFn: the item travels on as an error (a boundary).
          const e = invalid('weightFn(item)', 'must return a finite number >= 0', w);
          if (await this.flush()) await this.forward(err(e));
          else this.c.dropped++;
          continue;
        }
      }
      this.batch.push(r.value);
      this.c.bufferedDepth = this.batch.length;
      this.c.bufferedWeight += w;
      if (this.batch.length >= this.threshold || this.c.bufferedWeight >= this.threshold) {
        await this.flush();
      }
    }
    if (this.aborted) {
      if (this.batch.length > 0) this.noteCancel();
      this.dropBatch();
    } else {
      await this.flush();
    }
  }

  /** Emits the gathered batch, if any; false when a cancel stopped it (the batch is dropped). */
  private async flush(): Promise<boolean> {
    if (this.aborted) {
      if (this.batch.length > 0) this.noteCancel();
      this.dropBatch();
      return false;
    }
    const batch = this.batch;
    if (batch.length === 0) return true;
    this.batch = [];
    this.c.bufferedDepth = 0;
    this.c.bufferedWeight = 0;
    const s = this.out.send(ok(batch));
    if (s === true || (await s)) {
      this.c.emitted += batch.length;
      this.c.batchCount++;
      return true;
    }
    this.noteCancel();
    this.c.dropped += batch.length;
    return false;
  }

  private async forward(r: Result<never>): Promise<void> {
    if (this.aborted) {
      this.noteCancel();
      this.c.dropped++;
      return;
    }
    const s = this.out.send(r);
    if (s === true || (await s)) {
      this.c.forwarded++;
    } else {
      this.noteCancel();
      this.c.dropped++;
    }
  }

  private dropBatch(): void {
    this.c.dropped += this.batch.length;
    this.batch = [];
    this.c.bufferedDepth = 0;
    this.c.bufferedWeight = 0;
  }
}

/**
 * What `Batcher` and `WeightedBatcher` share over their one `BatchLoop`: the output, iteration
 * and `wait`. Only their stats differ.
 */
export abstract class BatchHandle<T> implements AsyncIterable<Result<T[]>> {
  /** @internal */
  protected readonly loop: BatchLoop<T>;
  /** @internal Built by `batcher` / `weightedBatcher`. */
  constructor(loop: BatchLoop<T>) {
    this.loop = loop;
  }
  /** The batches and forwarded errors; ends after the source ended. Must be drained. */
  out(): AsyncIterableIterator<Result<T[]>> {
    return this.loop.out;
  }
  /** The same iterator as `out()`: the object itself can be drained with `for await`. */
  [Symbol.asyncIterator](): AsyncIterator<Result<T[]>> {
    return this.loop.out;
  }
  /** Settles when the source was read to its end; rejects with the abort reason if cancel dropped items. */
  wait(): Promise<void> {
    const loop = this.loop;
    return loop.done.then(() => {
      if (loop.cancelled !== undefined) throw loop.cancelled.reason;
    });
  }
}
