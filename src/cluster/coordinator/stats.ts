/** The stats of a cluster stage: flow's `Stats` plus what only a cluster has. */
import type { Stats } from '../../flow/index.js';

/**
 * flow's `Stats` as a cluster stage fills it (see docs/cluster.md, "Stats"), plus:
 * results dropped as duplicates or from another run, dead letters, and the workers heard from.
 */
export interface ClusterStats extends Stats {
  /** Results dropped because their item already had one (a re-run after a redelivery). */
  duplicates: number;
  /** Results of an earlier coordinator run with the same names, dropped. */
  stale: number;
  /** Items dead-lettered after `maxDeliver` deliveries (counted in `completed` and `failed`). */
  deadLettered: number;
  /** Result messages that could not be decoded, dropped. */
  malformed: number;
  /** Workers that ever reported (live or not). */
  workers: number;
}
