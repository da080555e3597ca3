import { MemoCache } from '../identity/memo-cache.js';
import {
  accountRef,
  type BucketRefs,
  bucketRefs,
  composeRefs,
  type CounterSpecs,
  ipAccountRef,
  refList,
  type SourceRefs,
  sourceRefs,
  type VelocityRefName,
  type VelocityRefs,
} from '../signals/velocity.js';
import { storeKeys } from '../stores/key-layout.js';
import type { CounterRef, ReadRequest } from '../stores/store.js';
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

interface AccountParts {
  readonly ref: CounterRef;
  readonly flags: string;
  readonly recentChange: string;
}

const MEMO_ENTRIES = 50_000;

/**
 * Builds a decision's read from parts memoised by what they depend on: the source's counters
 * per keyed IP, the account's per keyed account, the wave's per time bucket. A returning user
 * comes back with the same source and account, and rebuilding nine refs and their key strings
 * on every request was a good part of its cost; a fresh attacker pays one insert per part, as
 * it paid the building before. The parts come from the same builders as `velocityRefs`, so the
 * plan cannot read other counters than the uncached refs would.
 */
export class ReadPlanner {
  private readonly sources = new MemoCache<SourceRefs>(MEMO_ENTRIES);
  private readonly accounts = new MemoCache<AccountParts>(MEMO_ENTRIES);
  private bucket = Number.NaN;
  private bucketParts: BucketRefs | undefined;

  constructor(private readonly specs: CounterSpecs) {}

  plan(ids: AttemptIds, bucket: number, also: readonly CounterRef[]): ReadPlan {
    const source = this.sources.peek(ids.ip) ?? this.remember(this.sources, ids.ip, sourceRefs(this.specs, ids));
    const account = this.accounts.peek(ids.account) ?? this.remember(this.accounts, ids.account, this.accountParts(ids.account));
    const refs = composeRefs(source, account.ref, ipAccountRef(this.specs, ids.account, ids.ip), this.bucketRefs(bucket));
    const { names, list } = refList(refs);
    for (const ref of also) list.push(ref);
    const keys = [account.flags, storeKeys.waveFlag(), account.recentChange, storeKeys.waveBaseline()];
    if (ids.device !== undefined) keys.push(storeKeys.knownDevice(ids.account, ids.device), storeKeys.secondFactorPass(ids.account, ids.device));
    return { refs, names, request: { counters: list, keys } };
  }

  private accountParts(account: string): AccountParts {
    return { ref: accountRef(this.specs, account), flags: storeKeys.passwordFlags(account), recentChange: storeKeys.recentChange(account) };
  }

  private bucketRefs(bucket: number): BucketRefs {
    if (bucket !== this.bucket || this.bucketParts === undefined) {
      this.bucket = bucket;
      this.bucketParts = bucketRefs(this.specs, bucket);
    }
    return this.bucketParts;
  }

  private remember<V>(memo: MemoCache<V>, key: string, value: V): V {
    memo.set(key, value);
    return value;
  }
}
