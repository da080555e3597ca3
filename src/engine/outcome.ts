import type { ResolvedConfig } from '../config/config.js';
import type { VelocityRefName } from '../signals/velocity.js';
import { type Baseline, isWave, nextBaseline, type WaveReading } from '../signals/wave.js';
import { storeKeys } from '../stores/key-layout.js';
import type { CounterIncrement, CounterRef, CounterValue, Store, SyncStore } from '../stores/store.js';
import type { Assessment, AttemptFacts, AttemptOutcome } from './assessment.js';

const BASELINE_TTL_MS = 7 * 86_400_000;
const NO_REFS: readonly CounterRef[] = [];
const NO_INCREMENTS: readonly NamedIncrement[] = [];

type Run = <T>(fn: (store: Store) => Promise<T>) => Promise<T>;

/** An increment of one of the decision's named counters. */
interface NamedIncrement extends CounterIncrement {
  readonly name: VelocityRefName | undefined;
}

/**
 * What an outcome adds to which counter. Counts never depend on whether a password was right
 * when the answer did not reveal it (a challenged attempt records `failure`), so later answers
 * cannot leak it either.
 */
export function outcomeIncrements(assessment: Assessment, outcome: AttemptOutcome, facts: AttemptFacts): readonly NamedIncrement[] {
  const listed = assessment.listedPassword && !assessment.deviceKnown;
  // A success counts only a listed password: the bulk of logins build nothing at all.
  if (outcome === 'success' && !listed) return NO_INCREMENTS;
  const { counters, refs, deviceKnown } = assessment;
  const inc: NamedIncrement[] = [];
  // The owner's device does not feed per-source lists: it may share an address with anyone.
  if (listed) addIncrement(inc, refs, 'listedPasswords', 1);
  if (outcome !== 'success') {
    addIncrement(inc, refs, 'ip', 1);
    addIncrement(inc, refs, 'subnet', 1);
    addIncrement(inc, refs, 'site', 1);
    // Evidence of a wave: what an attacker cannot fake cheaply (a failure from a device that
    // never passed a second factor here; an address with no account counts twice).
    if (!deviceKnown) addIncrement(inc, refs, 'evidence', evidenceWeight(facts));
  }
  if (outcome === 'failure') {
    addIncrement(inc, refs, 'ipAccount', 1);
    addIncrement(inc, refs, 'account', 1);
    // The first failure of this account from this IP in its window makes it one more distinct
    // account for the IP. Counting failures, not attempts, means successful returning users
    // create no per-request keys, and a NAT full of real users does not add up.
    if ((counters.get('ipAccount')?.consumed ?? 0) === 0) addIncrement(inc, refs, 'accountsPerIp', 1);
  }
  return inc;
}

/** One increment of a named counter the decision read (none when it has no such counter: IPv4 has no site). A function, not a closure made per attempt. */
function addIncrement(inc: NamedIncrement[], refs: Assessment['refs'], name: VelocityRefName, points: number): void {
  const ref = refs[name];
  if (ref) inc.push({ spec: ref.spec, key: ref.key, points, name });
}

function evidenceWeight(facts: AttemptFacts): number {
  return facts.unknownAccount ? 2 : 1;
}

/**
 * Feed an attempt's outcome back into velocity and the wave: one `add` for every counter
 * (plus `also`, counters the route keeps of its own), and only when something changes; then
 * undefined, so a returning user's success costs no second round trip and no extra tick.
 */
export function recordOutcome(
  store: OutcomeStore,
  config: ResolvedConfig,
  assessment: Assessment,
  outcome: AttemptOutcome,
  facts: AttemptFacts,
  also: readonly CounterRef[] = NO_REFS,
): Promise<void> | undefined {
  const counted = outcomeIncrements(assessment, outcome, facts);
  const inc = also.length === 0 ? counted : [...counted, ...also.map((ref): NamedIncrement => ({ spec: ref.spec, key: ref.key, points: 1, name: undefined }))];
  // Reset consecutive failures only when there are some.
  const reset = outcome === 'success' && (assessment.counters.get('ipAccount')?.consumed ?? 0) > 0;
  // A returning user's success changes nothing: no write, not even a promise to wait for.
  if (inc.length === 0 && !reset) return undefined;
  if (store.sync === undefined) return writeOutcome(store.run, config, assessment, outcome, facts, inc, reset);
  try {
    const totals = inc.length > 0 ? store.sync.add(inc) : [];
    if (reset) store.sync.reset([assessment.refs.ipAccount]);
    for (const w of followUps(config, assessment, outcome, facts, inc, totals)) store.sync.set(w.key, w.value, w.ttlMs);
  } catch {
    // Store trouble while recording never fails the request (the async path's rule too).
  }
  return undefined;
}

/** Where an outcome is written: the store through its insurance, or its synchronous twin. */
export interface OutcomeStore {
  readonly run: Run;
  /** Set when the store answers in-process and is its own insurance. */
  readonly sync: SyncStore | undefined;
}

async function writeOutcome(
  run: Run,
  config: ResolvedConfig,
  assessment: Assessment,
  outcome: AttemptOutcome,
  facts: AttemptFacts,
  inc: readonly NamedIncrement[],
  reset: boolean,
): Promise<void> {
  const totals = inc.length > 0 ? await run((s) => s.add(inc)) : [];
  if (reset) await run((s) => s.reset([assessment.refs.ipAccount]));
  for (const w of followUps(config, assessment, outcome, facts, inc, totals)) await run((s) => s.set(w.key, w.value, w.ttlMs));
}

/** What the totals just recorded call for: a baseline to learn, a wave to declare. */
function followUps(
  config: ResolvedConfig,
  assessment: Assessment,
  outcome: AttemptOutcome,
  facts: AttemptFacts,
  inc: readonly NamedIncrement[],
  totals: readonly CounterValue[],
): { key: string; value: string; ttlMs: number }[] {
  const writes: { key: string; value: string; ttlMs: number }[] = [];
  const i = inc.findIndex((entry) => entry.name === 'evidence');
  const evidence = i < 0 ? undefined : totals[i]?.consumed;
  if (evidence !== undefined && evidence <= evidenceWeight(facts)) {
    // First evidence of a new bucket: the previous one is complete, let the baseline learn it.
    // Increments are atomic, so exactly one instance sees this.
    const learnt = nextBaseline(assessment.baseline, assessment.counters.get('evidencePrevious')?.consumed ?? 0, config.wave);
    writes.push({ key: storeKeys.waveBaseline(), value: JSON.stringify(learnt), ttlMs: BASELINE_TTL_MS });
  }
  // A known device's failure is no evidence of a wave (nor reads the wave's counters: see
  // ReadPlanner); the unknown devices' failures that make a wave up declare it.
  if (outcome === 'success' || assessment.waveFlagged || assessment.deviceKnown) return writes;
  // Declared once per window, not rewritten by every failure of the attack it describes.
  if (isWave(waveReading(assessment, evidence), config.wave)) {
    writes.push({ key: storeKeys.waveFlag(), value: '1', ttlMs: config.wave.windowSec * 1000 });
  }
  return writes;
}

/** The wave's inputs from a decision's counters, optionally with the evidence just recorded. */
export function waveReading(assessment: Pick<Assessment, 'counters'> & { baseline: Baseline | undefined }, recordedEvidence?: number): WaveReading {
  const { counters, baseline } = assessment;
  return {
    evidence: recordedEvidence ?? counters.get('evidence')?.consumed ?? 0,
    evidencePrevious: counters.get('evidencePrevious')?.consumed ?? 0,
    baseline: baseline?.perBucket,
  };
}
