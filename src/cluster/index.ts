/**
 * sluice/cluster: flow stages whose workers run in other processes and on other machines,
 * through NATS JetStream. A coordinator makes a `ClusterStage` (flow's Stage surface, usable in
 * a `Topology` with `Analyzer`, `autoRope` and `Reporter`); workers anywhere `serve` it. See
 * docs/cluster.md.
 */
export { Cluster, type ConnectOptions, connect } from './cluster.js';
export { type Codec, type CodecOption, jsonCodec, msgpackCodec } from './codec.js';
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
export { type StageNames, stageNames } from './names.js';
export {
  findNatsServer,
  type NatsServer,
  type NatsServerOptions,
  startNatsServer,
} from './nats-server.js';
export type { ClusterFn, ServeOptions, StageServer } from './serve.js';
export { ClusterStage, type ClusterStageOptions } from './stage.js';
export type { ClusterStats } from './stats.js';
export type { WorkerStats } from './worker-stats.js';
