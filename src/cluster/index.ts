/**
 * sluice/cluster: flow stages whose workers run in other processes and on other machines,
 * through NATS JetStream. A coordinator makes a `ClusterStage` (flow's Stage surface, usable in
 * a `Topology` with `Analyzer`, `autoRope` and `Reporter`); workers anywhere `serve` it. See
 * docs/cluster.md.
 */
export { type ExitInfo, InvalidOptionError, SluiceError } from '../proc/index.js';
export { Cluster, type ConnectOptions, connect } from './cluster.js';
export { ClusterStage } from './coordinator/stage.js';
export type { ClusterStageOptions, StageStorage } from './coordinator/stage-options.js';
export type { ClusterStats } from './coordinator/stats.js';
export {
  ClusterClosedError,
  ClusterError,
  ClusterUnavailableError,
  DeadLetterError,
  DecodeError,
  NatsServerError,
  PayloadTooLargeError,
  RemoteError,
} from './errors.js';
export {
  findNatsServer,
  type NatsServer,
  type NatsServerOptions,
  startNatsServer,
} from './nats-server.js';
export { type Codec, type CodecOption, jsonCodec, msgpackCodec } from './wire/codec.js';
export { type StageNames, stageNames } from './wire/names.js';
export type { WorkerStats } from './wire/worker-stats.js';
export type { ClusterFn, ServeOptions, StageServer } from './worker/serve-options.js';
