/** Small helpers shared by the coordinator and the workers. */
import { msgpackCodec } from './codec.js';

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** sluice's own control messages (worker stats) are always MessagePack. */
export function msgpackEncode(value: unknown): Uint8Array {
  return msgpackCodec.encode(value);
}

export function msgpackDecode(bytes: Uint8Array): unknown {
  return msgpackCodec.decode(bytes);
}
