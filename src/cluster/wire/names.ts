/**
 * How a pipeline name and a stage name become JetStream objects. Names are validated up front
 * (letters, digits and `-`, at most 64 characters) so every subject and stream name built from
 * them is legal and, `_` being the separator, two different name pairs never map to one object.
 */
import { InvalidOptionError } from '../../proc/index.js';

const NAME = /^[A-Za-z0-9-]{1,64}$/;

/** The JetStream API subject prefix sluice uses (the server's default; no JetStream domains). */
export const JS_API_PREFIX = '$JS.API';

/** Throws an `InvalidOptionError` unless `value` is a legal pipeline or stage name. */
export function checkName(option: string, value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) {
    throw new InvalidOptionError(
      option,
      `must be 1-64 letters, digits or "-" (got ${JSON.stringify(value)})`,
    );
  }
  return value;
}

/** The JetStream names of one stage of one pipeline. */
export interface StageNames {
  /** Work-queue stream holding the items. */
  workStream: string;
  /** Subject the coordinator publishes items on. */
  workSubject: string;
  /** Durable pull consumer the workers share (its `max_ack_pending` is the WIP cap). */
  workConsumer: string;
  /** Core NATS subject workers send results on (the coordinator listens; nothing stores them). */
  resultSubject: string;
  /** Core NATS subject workers publish their stats on (at most once, not stored). */
  statsSubject: string;
}

/** Maps a pipeline and a stage name to their JetStream objects (see docs/cluster.md). */
export function stageNames(pipeline: string, stage: string): StageNames {
  const base = `sluice.${pipeline}.${stage}`;
  return {
    workStream: `SLUICE_${pipeline}_${stage}`,
    workSubject: `${base}.items`,
    workConsumer: 'workers',
    resultSubject: `${base}.results`,
    statsSubject: `${base}.stats`,
  };
}
