import { EventEmitter } from 'node:events';
import type { Request, Response } from 'express';
import { type ChallengeRequest, Challenges } from '../challenges/challenges.js';
import { type Presentation, type PresentationResult, presentChallenge } from '../challenges/present.js';
import type { ResolvedConfig, Thresholds } from '../config/config.js';
import type { ShieldRequestState } from '../http/request-state.js';
import { ContextReader, type RequestContext } from '../identity/client-context.js';
import { clientOrigin } from '../identity/client-origin.js';
import { DeviceCookie } from '../identity/device-cookie.js';
import { createKeyer, type Keyer } from '../identity/keyer.js';
import { MemoCache } from '../identity/memo-cache.js';
import { normaliseAddress } from '../leaks/normalise.js';
import type { BreachedPasswordSource } from '../passwords/source.js';
import { deviceSignal } from '../signals/device.js';
import { leakedAddressSignal } from '../signals/leaked-address.js';
import { listedPasswordSignal } from '../signals/listed-password.js';
import { passwordQualitySignal } from '../signals/password-quality.js';
import { recentChangeSignal } from '../signals/recent-change.js';
import type { PasswordFlags, Signal, SignalInput } from '../signals/signal.js';
import {
  type CounterSpecs,
  counterSpecs,
  retryAfterMs,
  type VelocityRefName,
  velocityRefs,
  velocitySignal,
  waveBucket,
} from '../signals/velocity.js';
import { type Baseline, isWave, parseBaseline, waveSignal } from '../signals/wave.js';
import { errorMessage } from '../errors/error-message.js';
import { Insured } from '../stores/insured.js';
import { storeKeys } from '../stores/key-layout.js';
import { MemoryStore } from '../stores/memory.js';
import type { CounterRef, ReadResult, Store, SyncStore } from '../stores/store.js';
import type { Assessment, AttemptFacts, AttemptIds, AttemptOutcome } from './assessment.js';
import { buildDecision, type Decision, type DecisionFacts, type DecisionOutcome, type Reason, type RouteKind } from './decision.js';
import { DeviceMemory, type KnownDevice } from './devices.js';
import type { ShieldEventMap } from './events.js';
import { Lists } from './lists.js';
import { type OutcomeStore, recordOutcome, waveReading } from './outcome.js';
import { learnPasswordLater } from './password-learning.js';
import { CounterReading, type ReadPlan, ReadPlanner, type ReturningSlot, valueAt } from './read-plan.js';
import { decide } from './policy.js';

const MAX_ADDRESS_LENGTH = 320;
/** The values of no route counters (most routes keep none of their own). */
const NO_ALSO_VALUES: readonly number[] = [];

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

export interface AssessOptions {
  /** `login` (unauthenticated) or `change` (a signed-in credential change). */
  readonly route: 'login' | 'change';
  readonly thresholds: Thresholds;
  /** When the store is down, fall back to in-process insurance (true) or throw (false). */
  readonly failOpen: boolean;
  /** The password submitted with the attempt, for the listed-password signal. */
  readonly password?: string;
  /** Counters the route keeps of its own, read in the same round trip (`Assessment.also`). */
  readonly also?: readonly CounterRef[];
}

/** How one step of a guard ends: what the decision reports and what velocity counts. */
export interface Settlement {
  readonly route: string;
  readonly kind: RouteKind;
  /** For credential changes, which change. */
  readonly change?: string;
  readonly monitor: boolean;
  readonly outcome: DecisionOutcome;
  /** What the counters record: the attempt's outcome, or nothing. */
  readonly counts: AttemptOutcome | 'nothing';
  readonly facts?: AttemptFacts;
  /** The route's own counters to add one to with the outcome (same round trip). */
  readonly alsoCount?: readonly CounterRef[];
  /** Replaces the assessment's score, reasons and action (a route that scores extra reasons). */
  readonly verdict?: { readonly action: Assessment['action']; readonly score: number; readonly reasons: readonly Reason[] };
  /** What `req.shield` carries besides the decision. */
  readonly state?: Omit<ShieldRequestState, 'decision'>;
  /** A login's success: remember the device and, on a known device, learn the password's quality. */
  readonly signIn?: { readonly address: string; readonly password: string };
  readonly startedAt?: number;
}

/** What completing a login's step-up came to; the step-up route turns it into an answer. */
export type StepUpResult =
  | { readonly kind: 'passed'; readonly decision: Decision; readonly userId: string | undefined }
  /** The owner passed the second factor, but the password had been wrong. */
  | { readonly kind: 'wrong-password' }
  | { readonly kind: 'wrong-code' }
  | { readonly kind: 'too-many-attempts' }
  | { readonly kind: 'store-error' }
  | { readonly kind: 'app-error'; readonly error: unknown };

/** After a credential change the app accepted: what the shield remembers about the account. */
export interface ChangeRecord {
  readonly account: string;
  readonly changesPassword: boolean;
  /** How long the change counts as recent (the lock's duration). */
  readonly recentForMs: number;
  /** After an email change: the new address, and the device that made the change. */
  readonly newAddress?: string;
  readonly device?: string;
}

/**
 * The engine every route shares. A guard speaks to it in verbs that each carry a whole step —
 * `assess` an attempt, `settle` its outcome (counters, decision, event, device memory),
 * `challenge` it, `completeStepUp` — and never reaches the store, the keyer or the config.
 */
export class ShieldEngine extends EventEmitter<ShieldEventMap> {
  readonly lists: Lists;
  readonly insured: Insured;
  private readonly key: Keyer;
  /** For what is memoised by its caller, keyed once in its life, or not worth a memo (see `accountOf`). */
  private readonly uncachedKey: Keyer;
  private readonly cookie: DeviceCookie<DeviceVisit>;
  private readonly context: ContextReader;
  private readonly specs: CounterSpecs;
  private readonly challenges: Challenges;
  private readonly devices: DeviceMemory;
  private readonly planner: ReadPlanner;
  /**
   * The store's synchronous twin, when it answers in-process and is its own insurance (the
   * embedded store): then a failure is the answer either way, as in `Insured.run`, and a
   * decision need not wait for a tick.
   */
  private readonly sync: SyncStore | undefined;
  /** Where outcomes are recorded (see `recordOutcome`). */
  private readonly recording: OutcomeStore;
  /** Parsed password flags by their stored text: there are only a handful of distinct values. */
  private readonly flagsMemo = new MemoCache<PasswordFlags | undefined>(64);
  /** The wave baseline changes once a bucket: its last few texts, parsed. */
  private readonly baselineMemo = new MemoCache<Baseline | undefined>(4);

  constructor(
    readonly config: ResolvedConfig,
    readonly store: Store,
    breached: BreachedPasswordSource | undefined,
  ) {
    super();
    this.key = createKeyer(config.secret);
    this.lists = new Lists(breached);
    // The embedded store is its own insurance: nothing to fall back to, nothing extra to run.
    const insurance = store instanceof MemoryStore ? store : new MemoryStore({ now: config.now });
    this.sync = store === insurance ? store.sync : undefined;
    this.insured = new Insured(store, insurance, {
      onFailure: (error) => this.emit('store.degraded', { store: store.name, error: errorMessage(error) }),
      onRecovery: () => this.emit('store.recovered', { store: store.name }),
    });
    // The address parts are memoised by the reader, a verified cookie's device by the cookie:
    // keying them again through the keyer's own memo would only double the inserts for every
    // fresh attacker address.
    const uncachedKey = createKeyer(config.secret, 0);
    this.uncachedKey = uncachedKey;
    this.cookie = new DeviceCookie<DeviceVisit>(config.secret, config.device, (raw) => uncachedKey('dev', raw));
    this.context = new ContextReader(uncachedKey, config.logger);
    this.specs = counterSpecs(config);
    this.planner = new ReadPlanner(this.specs);
    const run = this.run;
    this.challenges = new Challenges({
      run,
      // A token is keyed twice in its life (issued, presented): memoising it would only push
      // returning users' ids out of the memo.
      key: uncachedKey,
      secret: config.secret,
      options: config.challenge,
      secondFactor: config.secondFactor,
      specs: { live: this.specs.secondFactor, doomed: this.specs.secondFactorDoomed },
      emailCode: config.emailCode,
      sendCode: config.sendCode,
      logger: config.logger,
      now: config.now,
    });
    this.recording = { run, sync: this.sync };
    this.devices = new DeviceMemory({ run, key: this.key, cookie: this.cookie, options: config.device, now: config.now });
  }

  /** A store operation, through the insurance store while the primary is down. */
  private readonly run = async <T>(fn: (store: Store) => Promise<T>): Promise<T> => (await this.insured.run(fn)).value;

  now(): number {
    return this.config.now();
  }

  /** The request's keyed client address, subnet and device. */
  client(req: Request): RequestContext {
    return this.context.read(req, this.cookie.read(req));
  }

  /**
   * Account id for an address: normalised first so `J.Doe+x@GoogleMail.com` is one account.
   * Keyed afresh on every call, not memoised: a returning device's visit already keeps its id
   * (see `visit`), so a memo here only served strangers, whose addresses rarely come back. Under
   * a stuffing run every lookup missed and cost a miss, an insert and an eviction on top of the
   * HMAC (~1.5 µs of a 429's ~10 in process), and every attempt's first and later lookups took
   * measurably different times. Now every attempt at any address costs the same.
   */
  accountOf(address: string): string {
    const bounded = address.slice(0, MAX_ADDRESS_LENGTH);
    return this.uncachedKey('acct', normaliseAddress(bounded) ?? bounded.trim().toLowerCase());
  }

  /** The keyed id of an app user (for locks and the console). */
  userKey(userId: string): string {
    return this.key('user', userId);
  }

  /** A keyed name for something the app names (a session), never stored raw. */
  sessionKey(sessionId: string): string {
    return this.key('user', `session\0${sessionId}`);
  }

  get challengeTtlSec(): number {
    return this.challenges.ttlSec;
  }

  /**
   * Score an attempt against `address`: one store read, then pure signals and the policy. On a
   * store that answers in-process (the embedded one) nothing waits: the assessment comes back
   * as it is, not as a promise.
   */
  assess(req: Request, address: string, options: AssessOptions): Assessment | Promise<Assessment> {
    const visit = this.visit(req, address);
    const { ctx, ids } = visit;
    const bucket = waveBucket(this.config.now(), this.config);
    const plan = this.planner.plan(ids, bucket, options.route, options.also ?? [], visit);
    const sync = this.sync;
    if (sync !== undefined) {
      const snapshot = sync.read(plan.request);
      const instead = this.planner.recheck(ids, bucket, plan, snapshot.values, visit);
      if (instead === undefined) return this.score(ctx, ids, address, plan, snapshot, false, options);
      return this.score(ctx, ids, address, instead, sync.read(instead.request), false, options);
    }
    return this.readAsync(plan, options.failOpen).then(async (first) => {
      const instead = this.planner.recheck(ids, bucket, plan, first.value.values, visit);
      if (instead === undefined) return this.score(ctx, ids, address, plan, first.value, first.degraded, options);
      const again = await this.readAsync(instead, options.failOpen);
      return this.score(ctx, ids, address, instead, again.value, first.degraded || again.degraded, options);
    });
  }

  /**
   * Who is attempting what: the request's keyed source and device, and the keyed account of
   * `address`. A device comes back for the same account from the same client address: its
   * last visit, kept with its verified cookie, answers that with one lookup (the cookie's)
   * instead of one per identifier (the source memo, the account memo, the device's plans),
   * each a few cache misses in a server's large heap. The ids are the same pure keying of the
   * same inputs either way. The memos are not consulted: a hit there would change nothing, and
   * an entry evicted since is not put back, which only this device's own repeat can tell. A
   * new visit of the device keeps its plans: the planner checks them against the new ids.
   * Whether it is back from the same client address is told by its origin when there is one
   * (`clientOrigin`): Express's `req.ip` is then not run at all.
   */
  private visit(req: Request, address: string): DeviceVisit {
    const device = this.cookie.read(req);
    const last = device?.visit;
    // Only a device keeps a visit, so only a device's request needs its origin.
    const origin = device === undefined ? undefined : clientOrigin(req);
    // The same origin is the same client address (see clientOrigin): Express need not be asked.
    if (last !== undefined && origin !== undefined && last.origin === origin && last.email === address) return last;
    const source = this.context.address(req);
    if (last !== undefined && last.email === address && last.source === source) {
      last.origin = origin;
      return last;
    }
    const ctx = this.context.readAt(source, device);
    const ids: AttemptIds = { account: this.accountOf(address), ip: ctx.ip, subnet: ctx.subnet, site: ctx.site, device: ctx.device };
    const visit: DeviceVisit = { email: address, source, origin, ctx, ids, returning: last?.returning };
    // Only a verified cookie's device keeps one (bounded with the cookie memo); one per device.
    if (device !== undefined) device.visit = visit;
    return visit;
  }

  /** One read of a plan: through the insurance store while the primary is down, if failing open. */
  private readAsync(plan: ReadPlan, failOpen: boolean): Promise<{ value: ReadResult; degraded: boolean }> {
    return failOpen
      ? this.insured.run((s) => s.read(plan.request))
      : this.insured.primary.read(plan.request).then((value) => ({ value, degraded: false }));
  }

  private score(ctx: RequestContext, ids: AttemptIds, address: string, plan: ReadPlan, snapshot: ReadResult, degraded: boolean, options: AssessOptions): Assessment {
    const { values } = snapshot;
    const counters = new CounterReading(plan.names, snapshot.counters);

    const { at } = plan;
    const flagsRaw = valueAt(values, at.flags);
    const passwordFlags = flagsRaw === undefined ? undefined : this.flagsMemo.get(flagsRaw, () => parseFlags(flagsRaw));
    const seenRaw = valueAt(values, at.knownDevice);
    const deviceKnown = seenRaw !== undefined;
    // A known-device plan reads no wave keys: they only ever score a device the account does not know.
    const waveFlagged = valueAt(values, at.wave) !== undefined;
    const baselineRaw = valueAt(values, at.baseline);
    const baseline = baselineRaw === undefined ? undefined : this.baselineMemo.get(baselineRaw, () => parseBaseline(baselineRaw));
    const recentRaw = valueAt(values, at.recentChange);
    // Only looked at for a device the account does not know: its owner is never scored on it.
    const listedPassword = options.password !== undefined && !(ids.device !== undefined && deviceKnown) && this.lists.isListedPassword(options.password);
    const input: SignalInput = {
      config: this.config,
      route: options.route,
      counters,
      deviceKnown: ids.device ? deviceKnown : undefined,
      leakedAddress: this.lists.isLeaked(address),
      listedPassword,
      passwordFlags,
      waveActive: waveFlagged || isWave(waveReading({ counters, baseline }), this.config.wave),
      recentChangeAt: recentRaw === undefined ? undefined : Number(recentRaw),
    };
    const reasons: Reason[] = [];
    for (let i = 0; i < loginSignals.length; i++) {
      const found = (loginSignals[i] as Signal)(input);
      for (let j = 0; j < found.length; j++) reasons.push(found[j] as Reason);
    }
    const { action, score } = decide(reasons, options.thresholds);
    const also = options.also ?? [];
    return {
      ctx,
      ids,
      reasons,
      action,
      score,
      counters,
      refs: plan.refs,
      passwordFlags,
      deviceKnown,
      deviceSeenAt: deviceKnown ? Number(seenRaw) || 0 : undefined,
      secondFactorPassed: valueAt(values, at.secondFactorPass) !== undefined,
      listedPassword,
      waveFlagged,
      baseline,
      degraded,
      also: also.length === 0 ? NO_ALSO_VALUES : also.map((_, i) => snapshot.counters[plan.names.length + i]?.consumed ?? 0),
    };
  }

  /**
   * End a step: record the outcome in the counters, build and publish the decision, set
   * `req.shield`, and on a login's success remember the device (and learn the password's
   * quality on a known one). Store trouble while recording never fails the request.
   */
  settle(req: Request, res: Response, assessment: Assessment, s: Settlement): Decision | Promise<Decision> {
    const recording = this.record(assessment, s);
    // A returning user's success records nothing: then nothing here waits for a tick either.
    if (recording) return recording.then(() => this.conclude(req, res, assessment, s));
    return this.conclude(req, res, assessment, s);
  }

  /** The settlement's counters, written (never failing: store trouble only loses a count). */
  private record(assessment: Assessment, s: Settlement): Promise<void> | undefined {
    const recording = s.counts === 'nothing' ? undefined : recordOutcome(this.recording, this.config, assessment, s.counts, s.facts ?? {}, s.alsoCount);
    return recording?.catch(() => undefined);
  }

  private conclude(req: Request, res: Response, assessment: Assessment, s: Settlement): Decision | Promise<Decision> {
    const verdict = s.verdict ?? assessment;
    const action = verdict.action;
    const enforcedBlock = !s.monitor && action === 'block';
    const decision = this.publish({
      route: s.route,
      kind: s.kind,
      change: s.change,
      action,
      score: verdict.score,
      reasons: verdict.reasons,
      ids: assessment.ids,
      monitor: s.monitor,
      outcome: s.outcome,
      retryAfterSeconds: enforcedBlock ? this.retryAfterSeconds(assessment) : undefined,
      degraded: assessment.degraded,
      startedAt: s.startedAt,
    });
    setShield(req, decision, s.state);
    // Remember whom the shield will see again: a source it refuses keeps coming back.
    if (action === 'block') this.context.remember(assessment.ctx);
    if (!s.signIn) return decision;
    const { signIn } = s;
    // And an owner who signed in comes back from here. (Email addresses are memoised for
    // nobody, see `accountOf`: a memo of signed-in owners' addresses alone would time an
    // owner's address apart from a stranger's on every probe, an enumeration oracle.)
    this.context.remember(assessment.ctx);
    const learn = () => {
      if (assessment.deviceKnown && !assessment.passwordFlags) {
        learnPasswordLater({ run: this.run, lists: this.lists, options: this.config.password, logger: this.config.logger }, assessment.ids.account, signIn.address, signIn.password);
      }
      return decision;
    };
    const remembering = this.devices.markKnown(req, res, assessment.ids.account, assessment.ctx.rawDevice, assessment.deviceSeenAt);
    // Not remembering a device only means the next login is stepped up again.
    return remembering ? remembering.catch(() => undefined).then(learn) : learn();
  }

  /** Publish a decision that scored nothing (a withdrawal, a step-up) and return it. */
  report(req: Request, facts: Omit<DecisionFacts, 'ids'> & { readonly account?: string }, state?: Omit<ShieldRequestState, 'decision'>): Decision {
    const ctx = this.client(req);
    const decision = this.publish({
      route: facts.route,
      kind: facts.kind,
      change: facts.change,
      action: facts.action,
      score: facts.score,
      reasons: facts.reasons,
      ids: { account: facts.account, ip: ctx.ip, subnet: ctx.subnet, device: ctx.device },
      monitor: facts.monitor,
      outcome: facts.outcome,
      retryAfterSeconds: facts.retryAfterSeconds,
      degraded: facts.degraded,
      startedAt: facts.startedAt,
    });
    if (state) setShield(req, decision, state);
    return decision;
  }

  /**
   * Issue a step-up challenge for an assessed attempt (same answer whatever the password was)
   * and settle the attempt as `challenged`. Storing the challenge and recording the attempt
   * are sent together (one round trip to Redis, not two). Throws when the challenge cannot be
   * stored: the route answers 503 and no decision is published, but the attempt still counts
   * (the app did check its password: a store that refuses challenges must not make checking
   * passwords free).
   */
  async challenge(
    req: Request,
    res: Response,
    assessment: Assessment,
    binding: Omit<ChallengeRequest, 'account' | 'device'>,
    s: Settlement & { readonly outcome: 'challenged' },
  ): Promise<string> {
    const issuing = this.challenges.issue({
      account: assessment.ids.account,
      device: assessment.ids.device ?? null,
      userId: binding.userId,
      purpose: binding.purpose,
      passwordOk: binding.passwordOk,
      factor: binding.factor,
    });
    const recording = this.record(assessment, s);
    const token = await issuing;
    if (recording) await recording;
    const concluded = this.conclude(req, res, assessment, s);
    if (concluded instanceof Promise) await concluded;
    this.emit('challenge', { route: s.route, purpose: binding.purpose, outcome: 'issued', account: assessment.ids.account, at: this.now() });
    return token;
  }

  /** Check a presented challenge and code with the app's second-factor callback (events included). */
  present(req: Request, p: Presentation): Promise<PresentationResult> {
    return presentChallenge({ challenges: this.challenges, events: this, now: this.config.now, limit: this.config.secondFactor.limit }, req, p);
  }

  /**
   * Complete a login that was answered `step_up_required`. A passed factor takes the
   * challenged failure back and makes the device known; the owner who mistyped the password
   * gets a single-use pass for this device instead; a wrong code counts against its source.
   */
  async completeStepUp(req: Request, res: Response, p: Omit<Presentation, 'purpose' | 'device' | 'source'>): Promise<StepUpResult> {
    const ctx = this.client(req);
    // Spelt out, not spread (see runtime/hidden-classes.ts).
    const presented = await this.present(req, {
      route: p.route,
      token: p.token,
      code: p.code,
      purpose: 'login',
      device: ctx.device ?? null,
      source: ctx.ip,
      account: p.account,
      userId: p.userId,
      verifySecondFactor: p.verifySecondFactor,
    });
    if (presented.kind !== 'outcome') return presented;
    const { outcome } = presented;
    const ids: AttemptIds = { account: outcome.binding?.account ?? '', ip: ctx.ip, subnet: ctx.subnet, site: ctx.site, device: ctx.device };
    const report = (result: 'success' | 'failure', state?: Omit<ShieldRequestState, 'decision'>) =>
      this.report(req, { route: p.route, kind: 'step-up', action: 'allow', score: 0, reasons: [], monitor: false, outcome: result, account: ids.account || undefined }, state);
    if (!outcome.ok && outcome.failure === 'wrong-password' && outcome.binding) {
      try {
        // It was the owner: take the challenged failure back, and let this device's next
        // login with the right password through without a second code.
        await this.refundChallengedAttempt(ids);
        const raw = ctx.rawDevice ?? this.cookie.mint();
        if (ctx.rawDevice === undefined) this.cookie.write(req, res, raw);
        await this.devices.grantPass(ids.account, this.key('dev', raw));
      } catch {
        // The owner still learns the password was wrong; the next login simply asks again.
      }
      report('failure');
      return { kind: 'wrong-password' };
    }
    if (!outcome.ok) {
      if (outcome.failure === 'too-many-attempts') return { kind: 'too-many-attempts' };
      // A wrong code counts against its source like a failed login, so a source guessing codes
      // is soon refused at the login itself.
      await this.addTo(ids, ['ip', 'subnet', 'site'], 1).catch(() => undefined);
      return { kind: 'wrong-code' };
    }
    try {
      await this.refundChallengedAttempt(ids);
      await this.devices.markKnown(req, res, ids.account, ctx.rawDevice);
      // The owner logs in from here next: its source is worth remembering.
      this.context.remember(ctx);
    } catch {
      // The login itself succeeded; the device will simply be asked again next time.
    }
    const userId = outcome.binding.userId ?? undefined;
    return { kind: 'passed', decision: report('success', { userId, steppedUp: true }), userId };
  }

  /** The typo path's second half: use up this device's pass, if the assessment saw one. */
  takeSecondFactorPass(assessment: Assessment): Promise<boolean> | false {
    const device = assessment.ids.device;
    // Almost no attempt has a pass: answering at once saves the challenge path a tick.
    if (!assessment.secondFactorPassed || device === undefined) return false;
    return this.devices.takePass(assessment.ids.account, device).catch(() => false);
  }

  /** Remember a credential change the app accepted (password flags, recent change, device). */
  async recordChange(change: ChangeRecord, log: (step: string) => (error: unknown) => void): Promise<void> {
    const now = String(this.now());
    if (change.changesPassword) {
      // What was learnt about the old password no longer holds; the next login relearns it.
      await this.store.delete(storeKeys.passwordFlags(change.account)).catch(log('forgetting password flags'));
    }
    await this.store.set(storeKeys.recentChange(change.account), now, change.recentForMs).catch(log('marking the change'));
    if (change.newAddress && change.device) {
      // The device that made the change stays known under the new address.
      const account = this.accountOf(change.newAddress);
      await this.devices.remember(account, change.device).catch(log('moving the device to the new address'));
      await this.store.set(storeKeys.recentChange(account), now, change.recentForMs).catch(log('marking the change'));
    }
  }

  /** Devices known for an address, newest last (keyed ids only). */
  knownDevices(address: string): Promise<KnownDevice[]> {
    return this.devices.known(this.accountOf(address));
  }

  /** Whether a password is breached (every source; a failing source says no). */
  isBreached(password: string): Promise<boolean> {
    return this.lists.isBreached(password);
  }

  /**
   * A challenged login was counted as a failure (so counters could not reveal whether its
   * password was right). Once its owner passes the second factor, take that failure back, so
   * real users stepping up never add up to a "wave" or a blocked subnet, and reset the
   * consecutive failures of the (account, ip) pair. Only a passed second factor refunds, so an
   * attacker learns nothing from it.
   */
  private async refundChallengedAttempt(ids: AttemptIds): Promise<void> {
    const refs = await this.addTo(ids, ['ip', 'subnet', 'site', 'account', 'evidence'], -1);
    await this.run((s) => s.reset([refs.ipAccount]));
  }

  /** Add `points` to the named counters of `ids` (now's wave bucket); returns the refs used. */
  private async addTo(ids: AttemptIds, names: readonly VelocityRefName[], points: number) {
    const refs = velocityRefs(this.specs, ids, waveBucket(this.config.now(), this.config));
    const increments = names.flatMap((name) => {
      const ref = refs[name];
      return ref ? [{ spec: ref.spec, key: ref.key, points }] : [];
    });
    await this.run((s) => s.add(increments));
    return refs;
  }

  private publish(facts: DecisionFacts): Decision {
    const decision = buildDecision(facts, this.now());
    try {
      this.emit('decision', decision);
    } catch (error) {
      // A listener's bug must not turn a login into a 500.
      this.config.logger.error(`[account-shield] decision listener threw: ${errorMessage(error)}`);
    }
    return decision;
  }

  private retryAfterSeconds(assessment: Assessment): number {
    return Math.ceil(retryAfterMs(assessment.counters, this.config) / 1000);
  }

  async close(): Promise<void> {
    this.lists.close();
    if (this.insured.insurance !== this.store) await this.insured.insurance.close();
  }
}

/** A device's last attempt as `assess` read it (see `ShieldEngine.visit`), and its plans. */
interface DeviceVisit extends ReturningSlot {
  /** The address as sent, and the client address, it was keyed from. */
  readonly email: string;
  readonly source: string;
  /** What the client address was computed from, when that names it (see clientOrigin). */
  origin: string | undefined;
  readonly ctx: RequestContext;
  readonly ids: AttemptIds;
}

/** `req.shield`: the decision and what the route adds, built as literals, not a spread (see runtime/hidden-classes.ts). */
function setShield(req: Request, decision: Decision, state: Omit<ShieldRequestState, 'decision'> | undefined): void {
  const shield: ShieldRequestState =
    state === undefined
      ? { decision }
      : state.steppedUp === undefined
        ? { decision, userId: state.userId }
        : { decision, userId: state.userId, steppedUp: state.steppedUp };
  (req as Request & { shield?: ShieldRequestState }).shield = shield;
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
