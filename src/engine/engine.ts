import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { BoundedCache } from '../identity/memo-cache.js';
import { Challenges } from '../challenges/challenges.js';
import type { ResolvedConfig, Thresholds } from '../config/config.js';
import { ContextReader, type RequestContext } from '../identity/client-context.js';
import { DeviceCookie } from '../identity/device-cookie.js';
import type { ShieldEventMap } from './events.js';
import { createKeyer, type Keyer } from '../identity/keyer.js';
import { storeKeys } from '../stores/key-layout.js';
import { normaliseAddress } from '../leaks/normalise.js';
import type { LeakedAddressSource } from '../leaks/source.js';
import { isCommonPassword } from '../passwords/common.js';
import type { BreachedPasswordSource } from '../passwords/source.js';
import { decide } from './policy.js';
import { deviceSignal } from '../signals/device.js';
import { leakedAddressSignal } from '../signals/leaked-address.js';
import { listedPasswordSignal } from '../signals/listed-password.js';
import { addressInputs, passwordStrength } from '../signals/password-strength.js';
import { passwordQualitySignal } from '../signals/password-quality.js';
import { recentChangeSignal } from '../signals/recent-change.js';
import type { PasswordFlags, Signal, SignalInput } from '../signals/signal.js';
import {
  type CounterSpecs,
  type CounterValues,
  counterSpecs,
  refList,
  retryAfterMs,
  type VelocityRefName,
  type VelocityRefs,
  velocityRefs,
  velocitySignal,
  waveBucket,
} from '../signals/velocity.js';
import { type Baseline, isWave, nextBaseline, parseBaseline, type WaveReading, waveSignal } from '../signals/wave.js';
import { Insured } from '../stores/insured.js';
import { MemoryStore } from '../stores/memory.js';
import type { CounterIncrement, CounterValue, Store } from '../stores/store.js';
import type { Action, Decision, Reason, RouteKind } from './decision.js';

const MAX_ADDRESS_LENGTH = 320;
/** How long the typo path's "second factor passed" lasts for the next login from that device. */
const SECOND_FACTOR_PASS_MS = 10 * 60_000;
const BASELINE_TTL_MS = 7 * 86_400_000;

/** The signals a login-like decision runs, cheapest first; all are pure over one read. */
export const loginSignals: readonly Signal[] = [
  velocitySignal,
  leakedAddressSignal,
  listedPasswordSignal,
  deviceSignal,
  waveSignal,
  passwordQualitySignal,
  recentChangeSignal,
];

/** Identifiers of one attempt, all HMAC-keyed. */
export interface AttemptIds {
  readonly account: string;
  readonly ip: string;
  readonly subnet: string;
  readonly site?: string;
  readonly device?: string;
}

export interface Assessment {
  readonly ctx: RequestContext;
  readonly ids: AttemptIds;
  readonly reasons: Reason[];
  readonly action: Action;
  readonly score: number;
  readonly counters: CounterValues;
  readonly refs: VelocityRefs;
  readonly passwordFlags: PasswordFlags | undefined;
  /** The (account, device) pair has passed a second factor (and is still remembered). */
  readonly deviceKnown: boolean;
  /** Epoch ms the (account, device) pair was last remembered; undefined when not known. */
  readonly deviceSeenAt: number | undefined;
  /** This device passed a second factor for the account minutes ago (the typo path). */
  readonly secondFactorPassed: boolean;
  /** The submitted password is a common or breached one. */
  readonly listedPassword: boolean;
  /** A wave was already declared (its flag was read): recording need not declare it again. */
  readonly waveFlagged: boolean;
  readonly baseline: Baseline | undefined;
  readonly degraded: boolean;
}

export type AttemptOutcome = 'success' | 'failure' | 'blocked';

export interface AssessOptions {
  /** `login` (unauthenticated) or `change` (a signed-in credential change, the default). */
  readonly route?: 'login' | 'change';
  /** The password submitted with the attempt, for the listed-password signal. */
  readonly password?: string;
}

/** What the app told the shield privately about an attempt (never part of the answer). */
export interface AttemptFacts {
  /** No account has the address. */
  readonly unknownAccount?: boolean;
}

/**
 * The engine shared by every route: identifiers, the one-round-trip read, signals, policy,
 * outcome recording and events. Middleware files only translate it to HTTP.
 */
export class ShieldCore extends EventEmitter<ShieldEventMap> {
  readonly key: Keyer;
  readonly insured: Insured;
  readonly devices: DeviceCookie;
  readonly context: ContextReader;
  readonly challenges: Challenges;
  readonly specs: CounterSpecs;
  leaks: LeakedAddressSource | undefined;

  constructor(
    readonly config: ResolvedConfig,
    readonly store: Store,
    readonly breached: BreachedPasswordSource | undefined,
  ) {
    super();
    this.key = createKeyer(config.secret);
    // The embedded store is its own insurance: nothing to fall back to, nothing extra to run.
    const insurance = store instanceof MemoryStore ? store : new MemoryStore({ now: config.now });
    this.insured = new Insured(store, insurance, {
      onFailure: (error) => this.emit('store.degraded', { store: store.name, error: errorMessage(error) }),
      onRecovery: () => this.emit('store.recovered', { store: store.name }),
    });
    this.devices = new DeviceCookie(config.secret, config.device);
    this.context = new ContextReader(this.key, config.logger);
    this.specs = counterSpecs(config);
    this.challenges = new Challenges({
      run: async (fn) => (await this.insured.run(fn)).value,
      key: this.key,
      secret: config.secret,
      options: config.challenge,
      secondFactor: config.secondFactor,
      specs: { live: this.specs.secondFactor, doomed: this.specs.secondFactorDoomed },
      emailCode: config.emailCode,
      sendCode: config.sendCode,
      logger: config.logger,
      now: config.now,
    });
  }

  /** Account id for an address: normalised first so `J.Doe+x@GoogleMail.com` is one account. */
  accountOf(address: string): string {
    const bounded = address.slice(0, MAX_ADDRESS_LENGTH);
    return this.accountMemo.get(bounded, () => this.key('acct', normaliseAddress(bounded) ?? bounded.trim().toLowerCase()));
  }

  private readonly accountMemo = new BoundedCache<string>(50_000);

  isLeaked(address: string): boolean {
    const leaks = this.leaks;
    if (!leaks) return false;
    // A reload swaps the data under the same source: the memo is only valid for one load.
    if (leaks !== this.leakMemoSource || leaks.stats !== this.leakMemoStats) {
      this.leakMemo.clear();
      this.leakMemoSource = leaks;
      this.leakMemoStats = leaks.stats;
    }
    const bounded = address.slice(0, MAX_ADDRESS_LENGTH);
    return this.leakMemo.get(bounded, () => {
      try {
        return leaks.has(bounded);
      } catch {
        return false;
      }
    });
  }

  private readonly leakMemo = new BoundedCache<boolean>(50_000);
  private leakMemoSource: LeakedAddressSource | undefined;
  private leakMemoStats: unknown;

  /**
   * A common password (zxcvbn's list) or one in a local breach corpus. Never a network lookup
   * and never zxcvbn: this runs on every attempt, the attacker's included.
   */
  isListedPassword(password: string): boolean {
    if (isCommonPassword(password)) return true;
    try {
      return this.breached?.has?.(password) === true;
    } catch {
      return false;
    }
  }

  /**
   * Score an attempt against `address`: one store read, then pure signals. `failOpen` decides
   * whether an unavailable store falls back to in-process insurance or throws.
   */
  async assess(
    req: Request,
    address: string,
    thresholds: Thresholds,
    failOpen: boolean,
    options: AssessOptions = {},
  ): Promise<Assessment> {
    const ctx = this.context.read(req, this.devices.read(req));
    const ids: AttemptIds = { account: this.accountOf(address), ip: ctx.ip, subnet: ctx.subnet, site: ctx.site, device: ctx.device };
    const refs = velocityRefs(this.specs, ids, waveBucket(this.config.now(), this.config));
    const counterList = refList(refs);
    const keys = [
      storeKeys.passwordFlags(ids.account),
      storeKeys.waveFlag(),
      storeKeys.recentChange(ids.account),
      storeKeys.waveBaseline(),
      ...(ids.device ? [storeKeys.knownDevice(ids.account, ids.device), storeKeys.secondFactorPass(ids.account, ids.device)] : []),
    ];
    const request = { counters: counterList.list, keys };
    const { value: snapshot, degraded } = failOpen
      ? await this.insured.run((s) => s.read(request))
      : { value: await this.insured.primary.read(request), degraded: false };
    const [flagsRaw, waveRaw, recentRaw, baselineRaw, seenRaw, passRaw] = snapshot.values;
    const counters = new Map<VelocityRefName, CounterValue>();
    counterList.names.forEach((name, i) => {
      counters.set(name, snapshot.counters[i] ?? { consumed: 0, msBeforeNext: 0 });
    });

    const passwordFlags = parseFlags(flagsRaw);
    const deviceKnown = seenRaw !== undefined;
    const waveFlagged = waveRaw !== undefined;
    const baseline = parseBaseline(baselineRaw);
    const listedPassword = options.password !== undefined && this.isListedPassword(options.password);
    const input: SignalInput = {
      config: this.config,
      route: options.route ?? 'change',
      counters,
      deviceKnown: ids.device ? deviceKnown : undefined,
      leakedAddress: this.isLeaked(address),
      listedPassword,
      passwordFlags,
      waveActive: waveFlagged || isWave(waveReading(counters, baseline), this.config.wave),
      recentChangeAt: recentRaw === undefined ? undefined : Number(recentRaw),
    };
    const reasons = loginSignals.flatMap((signal) => signal(input));
    const { action, score } = decide(reasons, thresholds);
    return {
      ctx,
      ids,
      reasons,
      action,
      score,
      counters,
      refs,
      passwordFlags,
      deviceKnown,
      deviceSeenAt: deviceKnown ? Number(seenRaw) || 0 : undefined,
      secondFactorPassed: passRaw !== undefined,
      listedPassword,
      waveFlagged,
      baseline,
      degraded,
    };
  }

  /**
   * Feed an attempt's outcome back into velocity and the wave. Counts never depend on whether
   * a password was right when the answer did not reveal it (a challenged attempt records
   * `failure`), so later answers cannot leak it either.
   */
  async record(assessment: Assessment, outcome: AttemptOutcome, facts: AttemptFacts = {}): Promise<void> {
    const { counters, refs, deviceKnown } = assessment;
    const evidenceWeight = facts.unknownAccount ? 2 : 1;
    const inc: (CounterIncrement & { readonly name: VelocityRefName })[] = [];
    const add = (name: VelocityRefName, points = 1) => {
      const ref = refs[name];
      if (ref) inc.push({ ...ref, points, name });
    };
    // The owner's device does not feed per-source lists: it may share an address with anyone.
    if (assessment.listedPassword && !deviceKnown) add('listedPasswords');
    if (outcome !== 'success') {
      add('ip');
      add('subnet');
      add('site');
      // Evidence of a wave: what an attacker cannot fake cheaply (a failure from a device that
      // never passed a second factor here; an address with no account counts twice).
      if (!deviceKnown) add('evidence', evidenceWeight);
    }
    if (outcome === 'failure') {
      add('ipAccount');
      add('account');
      // The first failure of this account from this IP in its window makes it one more distinct
      // account for the IP. Counting failures, not attempts, means successful returning users
      // create no per-request keys, and a NAT full of real users does not add up.
      if ((counters.get('ipAccount')?.consumed ?? 0) === 0) add('accountsPerIp');
    }
    // A returning user's success usually adds nothing: no second round trip.
    const { value: totals } = inc.length > 0 ? await this.insured.run((s) => s.add(inc)) : { value: [] };
    // Reset consecutive failures only when there are some: a returning user costs no extra call.
    if (outcome === 'success' && (counters.get('ipAccount')?.consumed ?? 0) > 0) {
      await this.insured.run((s) => s.reset([refs.ipAccount]));
    }
    const total = (name: VelocityRefName) => {
      const i = inc.findIndex((entry) => entry.name === name);
      return i < 0 ? undefined : totals[i]?.consumed;
    };
    const evidence = total('evidence');
    if (evidence !== undefined && evidence <= evidenceWeight) {
      // First evidence of a new bucket: the previous one is complete, let the baseline learn it.
      // Increments are atomic, so exactly one instance sees this.
      const learnt = nextBaseline(assessment.baseline, counters.get('evidencePrevious')?.consumed ?? 0, this.config.wave);
      await this.insured.run((s) => s.set(storeKeys.waveBaseline(), JSON.stringify(learnt), BASELINE_TTL_MS));
    }
    if (outcome === 'success' || assessment.waveFlagged) return;
    const reading = waveReading(counters, assessment.baseline, evidence);
    // Declared once per window, not rewritten by every failure of the attack it describes.
    if (isWave(reading, this.config.wave)) {
      await this.insured.run((s) => s.set(storeKeys.waveFlag(), '1', this.config.wave.windowSec * 1000));
    }
  }

  /**
   * A challenged login was counted as a failure (so counters could not reveal whether its
   * password was right). Once its owner passes the second factor, take that failure back, so
   * real users stepping up never add up to a "wave" or a blocked subnet, and reset the
   * consecutive failures of the (account, ip) pair. Only a passed second factor refunds, so an
   * attacker learns nothing from it.
   */
  async refundChallengedAttempt(ids: AttemptIds): Promise<void> {
    const refs = await this.addTo(ids, ['ip', 'subnet', 'site', 'account', 'evidence'], -1);
    await this.insured.run((s) => s.reset([refs.ipAccount]));
  }

  /** A wrong second-factor code: one more failure for the source (never for the account). */
  async recordSourceFailure(ids: AttemptIds): Promise<void> {
    await this.addTo(ids, ['ip', 'subnet', 'site'], 1);
  }

  /** Add `points` to the named counters of `ids` (now's wave bucket); returns the refs used. */
  private async addTo(ids: AttemptIds, names: readonly VelocityRefName[], points: number): Promise<VelocityRefs> {
    const refs = velocityRefs(this.specs, ids, waveBucket(this.config.now(), this.config));
    const increments = names.flatMap((name) => {
      const ref = refs[name];
      return ref ? [{ ...ref, points }] : [];
    });
    await this.insured.run((s) => s.add(increments));
    return refs;
  }

  /**
   * The typo path: this device just passed the account's second factor, but with a wrong
   * password. Its next login with the right password needs no second code (once, for minutes).
   */
  async grantSecondFactorPass(account: string, device: string): Promise<void> {
    await this.insured.run((s) => s.set(storeKeys.secondFactorPass(account, device), '1', SECOND_FACTOR_PASS_MS));
  }

  /** Use up a pass (single use: only one concurrent login can take it). */
  async takeSecondFactorPass(account: string, device: string): Promise<boolean> {
    const { value } = await this.insured.run((s) => s.take(storeKeys.secondFactorPass(account, device)));
    return value !== undefined;
  }

  /** Remember that `account` logged in from this device (minting a device id if needed). */
  async markDeviceKnown(
    req: Request,
    res: Response,
    account: string,
    rawDevice: string | undefined,
    seenAt?: number,
  ): Promise<void> {
    // A device remembered within the last day needs no write: returning users, the bulk of
    // logins, then cost the shield one read and one counter update.
    if (rawDevice !== undefined && seenAt !== undefined && this.config.now() - seenAt < DEVICE_REFRESH_MS) return;
    const raw = rawDevice ?? this.devices.mint();
    await this.rememberDevice(account, this.key('dev', raw));
    this.devices.write(req, res, raw);
  }

  /** Make a keyed device known for an account. */
  async rememberDevice(account: string, device: string): Promise<void> {
    const ttl = this.config.device.knownForDays * 86_400_000;
    const now = this.config.now();
    await this.insured.run((s) => s.set(storeKeys.knownDevice(account, device), String(now), ttl));
    // The index only feeds the security page, so it is updated off the login's critical path.
    this.indexDevice(account, device, ttl).catch(() => undefined);
  }

  private async indexDevice(account: string, device: string, ttl: number): Promise<void> {
    const key = storeKeys.deviceIndex(account);
    const { value } = await this.insured.run((s) => s.read({ counters: [], keys: [key] }));
    const now = this.config.now();
    const entries = parseDeviceIndex(value.values[0]).filter((d) => d.id !== device && now - d.lastSeen < ttl);
    entries.push({ id: device, lastSeen: now });
    await this.insured.run((s) => s.set(key, JSON.stringify(entries.slice(-MAX_INDEXED_DEVICES)), ttl));
  }

  /** Devices known for an address, newest last (keyed ids only). */
  async knownDevices(address: string): Promise<{ id: string; lastSeen: number }[]> {
    const { value } = await this.insured.run((s) => s.read({ counters: [], keys: [storeKeys.deviceIndex(this.accountOf(address))] }));
    const ttl = this.config.device.knownForDays * 86_400_000;
    const now = this.config.now();
    return parseDeviceIndex(value.values[0]).filter((d) => now - d.lastSeen < ttl);
  }

  /**
   * After a password authenticated on the owner's known device, learn its quality for future
   * decisions about the account. Only there: on any other path, the extra work after a right
   * password would be a timing oracle for whoever sent it. At most once per `rememberDays` per
   * account, on a bounded input.
   */
  learnPassword(account: string, address: string, password: string): void {
    const work = async () => {
      const strength = passwordStrength(password, addressInputs(address), { maxLength: this.config.password.maxScoredLength });
      const breached = this.breached ? await this.breached.isBreached(password).catch(() => false) : false;
      const flags: PasswordFlags = { score: strength.score, breached };
      const ttl = this.config.password.rememberDays * 86_400_000;
      await this.insured.run((s) => s.set(storeKeys.passwordFlags(account), JSON.stringify(flags), ttl));
    };
    // After the response: zxcvbn is synchronous, and the login must not wait for it.
    setImmediate(() => {
      work().catch((error) => this.config.logger.warn(`[account-shield] could not record password quality: ${errorMessage(error)}`));
    });
  }

  decision(
    route: string,
    kind: RouteKind,
    assessment: Pick<Assessment, 'action' | 'score' | 'reasons' | 'degraded'> & { ids: Partial<AttemptIds> & { ip: string; subnet: string } },
    monitor: boolean,
    extra: { change?: string; retryAfterSeconds?: number; outcome?: Decision['outcome']; startedAt?: number } = {},
  ): Decision {
    const decision: Decision = {
      route,
      kind,
      change: extra.change,
      action: assessment.action,
      enforced: monitor ? 'allow' : assessment.action,
      monitor,
      score: assessment.score,
      reasons: assessment.reasons,
      ids: {
        account: assessment.ids.account,
        ip: assessment.ids.ip,
        subnet: assessment.ids.subnet,
        device: assessment.ids.device,
      },
      retryAfterSeconds: extra.retryAfterSeconds,
      degraded: assessment.degraded || undefined,
      outcome: extra.outcome,
      elapsedMs: extra.startedAt === undefined ? undefined : performance.now() - extra.startedAt,
      at: this.config.now(),
    };
    return decision;
  }

  publish(decision: Decision): void {
    try {
      this.emit('decision', decision);
    } catch (error) {
      // A listener's bug must not turn a login into a 500.
      this.config.logger.error(`[account-shield] decision listener threw: ${errorMessage(error)}`);
    }
  }

  retryAfterSeconds(assessment: Assessment): number {
    return Math.ceil(retryAfterMs(assessment.counters, this.config) / 1000);
  }
}

/** The wave's inputs from a decision's counters, optionally with the evidence just recorded. */
function waveReading(counters: CounterValues, baseline: Baseline | undefined, recordedEvidence?: number): WaveReading {
  return {
    evidence: recordedEvidence ?? counters.get('evidence')?.consumed ?? 0,
    evidencePrevious: counters.get('evidencePrevious')?.consumed ?? 0,
    baseline: baseline?.perBucket,
  };
}

const MAX_INDEXED_DEVICES = 20;
const DEVICE_REFRESH_MS = 86_400_000;

function parseDeviceIndex(raw: string | undefined): { id: string; lastSeen: number }[] {
  if (raw === undefined) return [];
  try {
    const value = JSON.parse(raw) as unknown;
    return Array.isArray(value)
      ? value.filter((d): d is { id: string; lastSeen: number } => typeof d?.id === 'string' && typeof d?.lastSeen === 'number')
      : [];
  } catch {
    return [];
  }
}

function parseFlags(raw: string | undefined): PasswordFlags | undefined {
  if (raw === undefined) return undefined;
  try {
    const flags = JSON.parse(raw) as PasswordFlags;
    return typeof flags.score === 'number' ? flags : undefined;
  } catch {
    return undefined;
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
