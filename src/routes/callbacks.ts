/**
 * Named types for the app's callbacks, so a callback written apart from its route
 * (`const getUser: GetSessionUser = (req) => …`) gets its parameters inferred under `strict`.
 * Derived from the route options, so they cannot drift from what the routes accept.
 */
import type { CredentialChangeRouteOptions, LoginRouteOptions, StepUpRouteOptions, WithdrawalRouteOptions } from '../config/route-options.js';
import type { Decision } from '../engine/decision.js';
import type { SecondFactor } from '../challenges/challenges.js';

/** The app's password check: `(email, password, req) => { userId } | null`. */
export type Authenticate = LoginRouteOptions['authenticate'];
/** The app's second-factor check: `(userId, code, req) => boolean`. */
export type VerifySecondFactor = StepUpRouteOptions['verifySecondFactor'];
/** The signed-in user of a credential-change request: `(req) => { userId, email, sessionStartedAt? } | undefined`. */
export type GetSessionUser = CredentialChangeRouteOptions['getUser'];
/** The signed-in user of a withdrawal request: `(req) => { userId } | undefined`. */
export type GetWithdrawalUser = WithdrawalRouteOptions['getUser'];
/** Runs after a successful credential change: `(userId, req) => void`. */
export type OnCredentialChanged = NonNullable<CredentialChangeRouteOptions['onChanged']>;
/** `options.onDecision` and the `decision` event listener. */
export type DecisionListener = (decision: Decision) => void;

/**
 * What the app's `authenticate` callback answers: the user when the password is right;
 * otherwise null/false/undefined, or `{ unknownAccount: true }` to tell the shield privately
 * that no account has this address (the client's answer stays identical; it feeds wave
 * detection).
 */
export type AuthResult = { userId: string; factor?: SecondFactor } | { unknownAccount: true } | null | undefined | false;

/** What the app's `lookupAccount` callback answers: who owns an address, without a password. */
export type AccountLookup = { userId: string; factor?: SecondFactor } | null | undefined;

/** Whether an app callback answered with a promise (then it is awaited) or with its value. */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
