// Types `req.shield` on Express's Request for every consumer of these types.
import './http/express-augment.js';
export { createShield, type Shield } from './shield.js';
export type { CodeDelivery, LockDuration, Posture, ShieldOptions, Thresholds, VelocityRule } from './config/config.js';
export { DECOY_USER_ID } from './challenges/challenges.js';
export { ShieldArgumentError, ShieldConfigError, type ShieldConfigErrorCode, ShieldError } from './errors/shield-error.js';
export type {
  ChallengeEvent,
  SecondFactorGuessingEvent,
  CredentialChangedEvent,
  ShieldEventMap,
  WithdrawalsLockedEvent,
  WithdrawalsUnlockedEvent,
} from './engine/events.js';
export type { AdminLockOptions, AdminUnlockOptions, LockStatus, WithdrawalLocks } from './locks/locks.js';
export type { CredentialChangeRouteOptions } from './config/route-options.js';
export type { GetUser, SessionUser } from './http/session-user.js';
export type {
  Authenticate,
  DecisionListener,
  GetSessionUser,
  GetWithdrawalUser,
  OnCredentialChanged,
  VerifySecondFactor,
} from './routes/callbacks.js';
export type { WithdrawalRouteOptions } from './config/route-options.js';
export type { LoginRouteOptions } from './config/route-options.js';
export type { StepUpRouteOptions } from './config/route-options.js';
export type { Action, Decision, Reason, RouteKind } from './engine/decision.js';
export type { AccountLookup, AuthResult } from './routes/callbacks.js';
export type { SecondFactor } from './challenges/challenges.js';
export type { ShieldRequest, ShieldRequestState } from './http/request-state.js';
export { MemoryStore, type MemoryStoreOptions } from './stores/memory.js';
export type { Store, CounterSpec, CounterRef, CounterValue, LockRecord, LockReason } from './stores/store.js';
export { addressInputs, passwordStrength, type Strength } from './signals/password-strength.js';
export { jsonErrorHandler } from './http/responses.js';
export type { ConsoleOptions } from './console/options.js';
export { shieldMetrics, type MetricsOptions, type ShieldMetrics } from './metrics/metrics.js';
export { RedisStore, createRedisStoreFromUrl } from './stores/redis.js';
export { StoreConfigError, StoreUnavailableError } from './stores/errors.js';
export { normaliseAddress } from './leaks/normalise.js';
export { leakedAddressesFromList, loadLeakedAddresses, type LeakedAddressSource } from './leaks/source.js';
export { LeakCorpusError } from './corpus/errors.js';
export { anyBreached, type BreachedPasswordSource } from './passwords/source.js';
export { loadBreachedPasswords } from './passwords/breached-local.js';
export { PwnedPasswordsRangeClient } from './passwords/range-client.js';
