import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { BoundedCache } from './bounded-cache.js';
import { Challenges } from './challenges.js';
import type { ResolvedConfig, Thresholds } from './config.js';
import { ContextReader, type RequestContext } from './context.js';
import { DeviceCookie } from './device-cookie.js';
import type { ShieldEventMap } from './events.js';
import { createKeyer, type Keyer, storeKeys } from './keys.js';
import { normaliseAddress } from './leaks/normalise.js';
import type { LeakedAddressSource } from './leaks/source.js';
import type { BreachedPasswordSource } from './passwords/source.js';
import { decide } from './policy.js';
import { deviceSignal } from './signals/device.js';
import { leakedAddressSignal } from './signals/leaked-address.js';
import { addressInputs, passwordStrength } from './signals/password-strength.js';
import { passwordQualitySignal } from './signals/password-quality.js';
import { recentChangeSignal } from './signals/recent-change.js';
import type { PasswordFlags, Signal, SignalInput } from './signals/signal.js';
import { counterSpecs, family, retryAfterMs, velocityRefs, velocitySignal } from './signals/velocity.js';
import { isWave, waveSignal } from './signals/wave.js';
import { Insured } from './stores/insured.js';
import { MemoryStore } from './stores/memory.js';
import type { CounterIncrement, CounterRef, CounterValue, Store } from './stores/store.js';
import type { Action, Decision, Reason, RouteKind } from './types.js';

const WAVE_KEY = 'wave';
const MAX_ADDRESS_LENGTH = 320;

/** The signals a login-like decision runs, cheapest first; all are pure over one read. */
export const loginSignals: readonly Signal[] = [
  velocitySignal,
  leakedAddressSignal,
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
  readonly device?: string;
}

export interface Assessment {
  readonly ctx: RequestContext;
  readonly ids: AttemptIds;
  readonly reasons: Reason[];
  readonly action: Action;
  readonly score: number;
  readonly counters: ReadonlyMap<string, CounterValue>;
  readonly passwordFlags: PasswordFlags | undefined;
  /** Epoch ms the (account, device) pair was last remembered; undefined when not known. */
  readonly deviceSeenAt: number | undefined;
  /** A wave was already declared (its flag was read): recording need not declare it again. */
  readonly waveFlagged: boolean;
  readonly degraded: boolean;
  readonly refs: CounterRef[];
}

export type AttemptOutcome = 'success' | 'failure' | 'blocked';

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
  readonly specs: ReturnType<typeof counterSpecs>;
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
    this.challenges = new Challenges(
      async (fn) => (await this.insured.run(fn)).value,
      this.key,
      config.challenge,
      config.now,
    );
    this.specs = counterSpecs(config);
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
   * Score an attempt against `address`: one store read, then pure signals. `failOpen` decides
   * whether an unavailable store falls back to in-process insurance or throws.
   */
  async assess(
    req: Request,
    address: string,
    thresholds: Thresholds,
    failOpen: boolean,
  ): Promise<Assessment> {
    const ctx = this.context.read(req, this.devices.read(req));
    const ids: AttemptIds = { account: this.accountOf(address), ip: ctx.ip, subnet: ctx.subnet, device: ctx.device };
    const refs = velocityRefs(this.specs, ids);
    const keys = [
      ids.device ? storeKeys.knownDevice(ids.account, ids.device) : undefined,
      storeKeys.passwordFlags(ids.account),
      WAVE_KEY,
      storeKeys.recentChange(ids.account),
    ];
    const request = { counters: refs, keys: keys.filter((k): k is string => k !== undefined) };
    const { value: snapshot, degraded } = failOpen
      ? await this.insured.run((s) => s.read(request))
      : { value: await this.insured.primary.read(request), degraded: false };
    const values = new Map(request.keys.map((k, i) => [k, snapshot.values[i]]));
    const counters = new Map<string, CounterValue>();
    refs.forEach((ref, i) => {
      counters.set(ref.spec.name, snapshot.counters[i] ?? { consumed: 0, msBeforeNext: 0 });
    });

    const passwordFlags = parseFlags(values.get(storeKeys.passwordFlags(ids.account)));
    const seen = ids.device ? values.get(storeKeys.knownDevice(ids.account, ids.device)) : undefined;
    const recent = values.get(storeKeys.recentChange(ids.account));
    const waveFlagged = values.get(WAVE_KEY) !== undefined;
    const input: SignalInput = {
      config: this.config,
      counters,
      deviceKnown: ids.device ? seen !== undefined : undefined,
      leakedAddress: this.isLeaked(address),
      passwordFlags,
      waveActive:
        waveFlagged ||
        isWave(counters.get(family.failures)?.consumed ?? 0, counters.get(family.attempts)?.consumed ?? 0, this.config.wave),
      recentChangeAt: recent === undefined ? undefined : Number(recent),
    };
    const reasons = loginSignals.flatMap((signal) => signal(input));
    const { action, score } = decide(reasons, thresholds);
    const deviceSeenAt = seen === undefined ? undefined : Number(seen) || 0;
    return { ctx, ids, reasons, action, score, counters, passwordFlags, deviceSeenAt, waveFlagged, degraded, refs };
  }

  /**
   * Feed an attempt's outcome back into velocity. Counts never depend on whether a password
   * was right when the answer did not reveal it (a challenged attempt records `failure`), so
   * later answers cannot leak it either.
   */
  async record(assessment: Assessment, outcome: AttemptOutcome): Promise<void> {
    const { counters, refs } = assessment;
    const [ip, subnet, ipAccount, accountsPerIp, account, attempts, failures] = refs as [
      CounterRef,
      CounterRef,
      CounterRef,
      CounterRef,
      CounterRef,
      CounterRef,
      CounterRef,
    ];
    const inc: CounterIncrement[] = [{ ...attempts, points: 1 }];
    if (outcome !== 'success') inc.push({ ...ip, points: 1 }, { ...subnet, points: 1 }, { ...failures, points: 1 });
    if (outcome === 'failure') {
      inc.push({ ...ipAccount, points: 1 }, { ...account, points: 1 });
      // The first failure of this account from this IP in its window makes it one more distinct
      // account for the IP. Counting failures, not attempts, means successful returning users
      // create no per-request keys, and a NAT full of real users does not add up.
      if ((counters.get(family.ipAccount)?.consumed ?? 0) === 0) inc.push({ ...accountsPerIp, points: 1 });
    }
    const { value: totals } = await this.insured.run((s) => s.add(inc));
    // Reset consecutive failures only when there are some: a returning user costs no extra call.
    if (outcome === 'success' && (counters.get(family.ipAccount)?.consumed ?? 0) > 0) {
      await this.insured.run((s) => s.reset([ipAccount]));
    }
    const total = (name: string) => totals[inc.findIndex((i) => i.spec.name === name)]?.consumed;
    const f = total(family.failures) ?? counters.get(family.failures)?.consumed ?? 0;
    const a = total(family.attempts) ?? 0;
    // Declared once per window, not rewritten by every failure of the attack it describes.
    if (outcome !== 'success' && !assessment.waveFlagged && isWave(f, a, this.config.wave)) {
      await this.insured.run((s) => s.set(WAVE_KEY, '1', this.config.wave.windowSec * 1000));
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
    const [ip, subnet, ipAccount, , account, , failures] = velocityRefs(this.specs, ids) as CounterRef[];
    const refund = [ip, subnet, account, failures].map((ref) => ({ ...(ref as CounterRef), points: -1 }));
    await this.insured.run((s) => s.add(refund));
    await this.insured.run((s) => s.reset([ipAccount as CounterRef]));
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
   * After a password authenticated, learn its quality for future decisions about the account.
   * Runs at most once per `rememberDays` per account, on a bounded input, never before the
   * app's own password check, so an attacker cannot make us run zxcvbn at will.
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
