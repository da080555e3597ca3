import { keepHiddenClass } from '../runtime/hidden-classes.js';
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
import { type CounterRef, type CounterValue, ReadHints, type ReadRequest } from '../stores/store.js';
import type { AttemptIds } from './assessment.js';

/** What one decision reads: its named counters and its plain keys, found by `at`. */
export interface ReadPlan {
  readonly refs: VelocityRefs;
  /** The name of each counter of `request.counters`, in order (the route's own come after). */
  readonly names: readonly VelocityRefName[];
  readonly request: ReadRequest;
  /** Where each plain key sits in `request.keys`; a key the plan does not read has none. */
  readonly at: KeyPositions;
  /**
   * Set on a known-device plan (see `ReadPlanner`): the whole read it was cut from, which is
   * read instead when the device turns out not to be known.
   */
  readonly whole?: ReadPlan;
  /** The wave bucket its refs were built for. */
  readonly bucket: number;
}

export interface KeyPositions {
  readonly flags?: number;
  readonly knownDevice?: number;
  readonly secondFactorPass?: number;
  readonly wave?: number;
  readonly recentChange?: number;
  readonly baseline?: number;
}

const WHOLE: KeyPositions = { flags: 0, wave: 1, recentChange: 2, baseline: 3, knownDevice: 4, secondFactorPass: 5 };
const WHOLE_WITHOUT_DEVICE: KeyPositions = { flags: 0, wave: 1, recentChange: 2, baseline: 3 };
/**
 * A login without a device cookie: the password flags only ever score (or are learnt from) a
 * device the account knows, and a recent change only a signed-in change, so neither is read.
 * What is read depends on the cookie alone, never on the account: nothing to enumerate.
 */
const LOGIN_WITHOUT_DEVICE: KeyPositions = { wave: 0, baseline: 1 };
const KNOWN_DEVICE: KeyPositions = { flags: 0, knownDevice: 1, secondFactorPass: 2 };
/** The one counter that scores a known device (velocity's KNOWN_DEVICE_RULES) and that its outcome reads. */
const KNOWN_DEVICE_NAMES: readonly VelocityRefName[] = Object.freeze(['ipAccount']);
const NO_ALSO: readonly CounterRef[] = [];

/** The value of the plain key at `position` of a read (undefined when the plan did not read it). */
export function valueAt(values: readonly (string | undefined)[], position: number | undefined): string | undefined {
  return position === undefined ? undefined : values[position];
}

/** A returning device's kept plans: ~2.1 KB with the store's read notes (~2.9 KB with a known-device plan). */
export interface ReturningPlan {
  readonly account: string;
  readonly ip: string;
  readonly bucket: number;
  readonly plan: ReadPlan;
  /** Set once a whole read found the device known for the account. */
  knownDevice: ReadPlan | undefined;
}

/**
 * Where a device's plans are kept between its requests: with what else is remembered of the
 * device (the engine's `DeviceVisit`, which lives as long as its verified cookie is
 * remembered), so that finding them costs no lookup of its own.
 */
export interface ReturningSlot {
  returning: ReturningPlan | undefined;
}

/**
 * Builds a decision's read. A returning device comes back for the same account from the same
 * address, so its whole plan is kept in the device's slot (frozen: every such request shares it)
 * while the three still match: rebuilding nine refs and their key strings on every request
 * was a good part of a returning user's cost. Anyone else (a stranger, who rarely comes back)
 * gets a plan built fresh: memoising its parts would only fill memos with entries never read
 * again, and leave the garbage collector more to trace. The parts come from the same builders
 * as `velocityRefs`, so a plan cannot read other counters than the uncached refs would.
 *
 * Once a whole read found the device known for the account, its next requests read only what
 * can score a known device: the failures of this account from this address (the one velocity
 * rule a known device answers to), the password flags, whether the device is still known and
 * its second-factor pass — 4 lookups instead of 14, and on a Cluster the account's node alone.
 * Every other signal is silent for a known device (source rules, the wave, listed passwords,
 * recent changes), so the decision is the one the whole read would give. Should the device
 * have been forgotten meanwhile, the whole plan is read at once (`recheck`): a second read for
 * the owner of that device only, never for anyone without its cookie. The known-device cut
 * reads no wave bucket, so it is kept from one bucket to the next: a device back after a
 * minute builds nothing (the whole plan, should it be needed, is then built for the new bucket).
 */
export class ReadPlanner {
  private bucket = Number.NaN;
  private bucketParts: BucketRefs | undefined;

  constructor(private readonly specs: CounterSpecs) {}

  /** `slot`: where this request's device keeps its plans (unused without a device). */
  plan(ids: AttemptIds, bucket: number, route: 'login' | 'change', also: readonly CounterRef[], slot: ReturningSlot): ReadPlan {
    if (ids.device === undefined || also.length > 0) return this.build(ids, bucket, route, also);
    const kept = slot.returning;
    if (kept !== undefined && kept.account === ids.account && kept.ip === ids.ip) {
      if (kept.bucket === bucket) return kept.knownDevice ?? kept.plan;
      // A known device's read holds in every bucket: it reads none of the wave's counters, and
      // its outcomes count none (outcomeIncrements, followUps). Should the device turn out
      // unknown, `recheck` reads a whole plan of the bucket it is in.
      if (kept.knownDevice !== undefined) return kept.knownDevice;
    }
    // With a device the read is the same for every route (see `build`). Kept and read again:
    // with hints, so the store can note what it found (see ReadRequest.hints).
    const plan = freeze(this.build(ids, bucket, route, NO_ALSO, new ReadHints()));
    // Whether the device is known for the account does not depend on the address or the bucket.
    const known = kept !== undefined && kept.account === ids.account && kept.knownDevice !== undefined;
    const entry: ReturningPlan = { account: ids.account, ip: ids.ip, bucket, plan, knownDevice: known ? knownDevicePlan(plan) : undefined };
    slot.returning = entry;
    return entry.knownDevice ?? plan;
  }

  /**
   * After `plan` was read: undefined when its answer stands, or the whole plan to read instead
   * (a known-device plan found the device no longer known). A whole read that finds the device
   * known lets its next requests read less.
   */
  recheck(ids: AttemptIds, bucket: number, plan: ReadPlan, values: readonly (string | undefined)[], slot: ReturningSlot): ReadPlan | undefined {
    const known = valueAt(values, plan.at.knownDevice) !== undefined;
    const kept = ids.device === undefined ? undefined : slot.returning;
    if (plan.whole !== undefined) {
      if (known) return undefined;
      if (kept !== undefined && kept.knownDevice === plan) kept.knownDevice = undefined;
      if (plan.whole.bucket === bucket) return plan.whole;
      // Cut in an earlier bucket, whose wave counters are not this one's: the device's plans
      // for this bucket, kept for its next request too (with a device, every route reads alike).
      const fresh = this.plan(ids, bucket, 'login', NO_ALSO, slot);
      return fresh.whole ?? fresh;
    }
    if (known && kept !== undefined && kept.plan === plan) kept.knownDevice ??= knownDevicePlan(plan);
    return undefined;
  }

  /** `hints`: for a plan that is kept and read again (see `ReadRequest.hints`). */
  private build(ids: AttemptIds, bucket: number, route: 'login' | 'change', also: readonly CounterRef[], hints?: ReadHints): ReadPlan {
    const refs = composeRefs(sourceRefs(this.specs, ids), accountRef(this.specs, ids.account), ipAccountRef(this.specs, ids.account, ids.ip), this.bucketRefs(bucket));
    const { names, list } = refList(refs);
    for (const ref of also) list.push(ref);
    if (ids.device === undefined && route === 'login') {
      return { refs, names, request: { counters: list, keys: [storeKeys.waveFlag(), storeKeys.waveBaseline()], hints }, at: LOGIN_WITHOUT_DEVICE, whole: undefined, bucket };
    }
    const keys = [storeKeys.passwordFlags(ids.account), storeKeys.waveFlag(), storeKeys.recentChange(ids.account), storeKeys.waveBaseline()];
    if (ids.device === undefined) return { refs, names, request: { counters: list, keys, hints }, at: WHOLE_WITHOUT_DEVICE, whole: undefined, bucket };
    keys.push(storeKeys.knownDevice(ids.account, ids.device), storeKeys.secondFactorPass(ids.account, ids.device));
    return { refs, names, request: { counters: list, keys, hints }, at: WHOLE, whole: undefined, bucket };
  }

  private bucketRefs(bucket: number): BucketRefs {
    if (bucket !== this.bucket || this.bucketParts === undefined) {
      this.bucket = bucket;
      this.bucketParts = bucketRefs(this.specs, bucket);
    }
    return this.bucketParts;
  }
}

/** The known-device cut of a whole plan with a device: same refs (what outcomes count), less read. */
function knownDevicePlan(whole: ReadPlan): ReadPlan {
  const keys = whole.request.keys;
  const at = whole.at;
  return freeze({
    refs: whole.refs,
    names: KNOWN_DEVICE_NAMES,
    request: {
      counters: [whole.refs.ipAccount],
      keys: [keys[at.flags as number] as string, keys[at.knownDevice as number] as string, keys[at.secondFactorPass as number] as string],
      hints: new ReadHints(),
    },
    at: KNOWN_DEVICE,
    whole,
    bucket: whole.bucket,
  });
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
// Every decision makes one and drops it: see keepHiddenClass.
keepHiddenClass(new CounterReading([], []));
