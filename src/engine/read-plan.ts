import { MemoCache } from '../identity/memo-cache.js';
import {
  accountRef,
  type BucketRefs,
  bucketRefs,
  composeRefs,
  type CounterSpecs,
  ipAccountRef,
  refList,
  sourceRefs,
  type CounterValues,
  type VelocityRefName,
  type VelocityRefs,
} from '../signals/velocity.js';
import { storeKeys } from '../stores/key-layout.js';
import type { CounterRef, CounterValue, ReadRequest } from '../stores/store.js';
import type { AttemptIds } from './assessment.js';

/** What one decision reads: its named counters and, by position, its plain keys. */
export interface ReadPlan {
  readonly refs: VelocityRefs;
  /** The name of each counter of `request.counters`, in order (the route's own come after). */
  readonly names: readonly VelocityRefName[];
  readonly request: ReadRequest;
}

/** Positions of the plain keys in `ReadPlan.request.keys`. */
export const KEY = { flags: 0, wave: 1, recentChange: 2, baseline: 3, knownDevice: 4, secondFactorPass: 5 } as const;

/** Whole plans kept for returning devices: ~1.5 KB each. */
const RETURNING_ENTRIES = 20_000;

interface ReturningPlan {
  readonly account: string;
  readonly ip: string;
  readonly bucket: number;
  readonly plan: ReadPlan;
}

/**
 * Builds a decision's read. A returning device comes back for the same account from the same
 * address, so its whole plan is kept (bounded, frozen since every such request shares it)
 * while the three still match: rebuilding nine refs and their key strings on every request
 * was a good part of a returning user's cost. Anyone else (a stranger, who rarely comes back)
 * gets a plan built fresh: memoising its parts would only fill memos with entries never read
 * again, and leave the garbage collector more to trace. The parts come from the same builders
 * as `velocityRefs`, so a plan cannot read other counters than the uncached refs would.
 */
export class ReadPlanner {
  private readonly returning = new MemoCache<ReturningPlan>(RETURNING_ENTRIES);
  private bucket = Number.NaN;
  private bucketParts: BucketRefs | undefined;

  constructor(private readonly specs: CounterSpecs) {}

  plan(ids: AttemptIds, bucket: number, also: readonly CounterRef[]): ReadPlan {
    if (ids.device === undefined || also.length > 0) return this.build(ids, bucket, also);
    const kept = this.returning.peek(ids.device);
    if (kept !== undefined && kept.account === ids.account && kept.ip === ids.ip && kept.bucket === bucket) return kept.plan;
    const plan = freeze(this.build(ids, bucket, also));
    this.returning.set(ids.device, { account: ids.account, ip: ids.ip, bucket, plan });
    return plan;
  }

  private build(ids: AttemptIds, bucket: number, also: readonly CounterRef[]): ReadPlan {
    const refs = composeRefs(sourceRefs(this.specs, ids), accountRef(this.specs, ids.account), ipAccountRef(this.specs, ids.account, ids.ip), this.bucketRefs(bucket));
    const { names, list } = refList(refs);
    for (const ref of also) list.push(ref);
    const keys = [storeKeys.passwordFlags(ids.account), storeKeys.waveFlag(), storeKeys.recentChange(ids.account), storeKeys.waveBaseline()];
    if (ids.device !== undefined) keys.push(storeKeys.knownDevice(ids.account, ids.device), storeKeys.secondFactorPass(ids.account, ids.device));
    return { refs, names, request: { counters: list, keys } };
  }

  private bucketRefs(bucket: number): BucketRefs {
    if (bucket !== this.bucket || this.bucketParts === undefined) {
      this.bucket = bucket;
      this.bucketParts = bucketRefs(this.specs, bucket);
    }
    return this.bucketParts;
  }
}

function freeze(plan: ReadPlan): ReadPlan {
  Object.freeze(plan.request.counters);
  Object.freeze(plan.request.keys);
  Object.freeze(plan.request);
  Object.freeze(plan.refs);
  return Object.freeze(plan);
}

/**
 * The counters of one read by name, over the store's answer as it came: no copy into a Map.
 * The route's own counters follow the named ones in `values` and are not reachable by name.
 */
export class CounterReading implements CounterValues {
  constructor(
    private readonly names: readonly VelocityRefName[],
    private readonly values: readonly CounterValue[],
  ) {}

  get(name: VelocityRefName): CounterValue | undefined {
    const i = this.names.indexOf(name);
    return i < 0 ? undefined : this.values[i];
  }
}
