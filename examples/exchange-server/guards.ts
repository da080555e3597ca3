import type { ErrorRequestHandler, Express, RequestHandler, Router } from 'express';
import type { Shield } from 'account-shield';
import type { AdminCredentials } from './admin.js';
import type { ExchangeOptions } from './options.js';
import type { Outbox } from './outbox.js';
import type { SessionStore } from './sessions.js';
import type { User, UserStore } from './users.js';

/** What `GET /account/security` shows of an account's protection (its JSON body). */
export interface SecurityView {
  readonly withdrawalsLockedUntil: string | null;
  readonly reasons: readonly { kind: string; at: string; until: string; detail?: string }[];
  readonly knownDevices: readonly { id: string; lastSeen: string }[];
}

/**
 * Everything that decides *whether* a request may do what it asks, in one place: the exchange's
 * own handlers (app.ts, account.ts, wallet.ts) only do the work. `shieldGuards` (shield.ts), the
 * default, is account-shield mounted as its README says; keeping the decisions behind this one
 * seam is what lets the same exchange be built with other login defences to compare against.
 */
export interface ExchangeGuards {
  /** Reported by `GET /healthz` (`protection`) and at start-up. */
  readonly name: string;
  /** The account-shield instance behind these guards, when there is one (events, locks, console). */
  readonly shield?: Shield;
  /** Who may open the operator console at /admin, when these guards serve one. */
  readonly admin?: AdminCredentials;
  /** `POST /auth/login`: the chain answers 200 {token} · 401 · 429 itself. */
  readonly login: readonly RequestHandler[];
  /** `POST /auth/login/verify`: the answer to a step-up challenge. */
  readonly verify: readonly RequestHandler[];
  /**
   * One middleware in front of each sensitive handler, after `requireSession` (so
   * `authOf(res).session.userId` is the user). It lets the change through only when it may,
   * and ends the account's other sessions after a password or 2FA change.
   */
  readonly password: RequestHandler;
  /** In front of `POST /account/email/confirm`, the step that changes the address. */
  readonly email: RequestHandler;
  readonly twoFactorReset: RequestHandler;
  readonly apiKeys: RequestHandler;
  readonly withdrawals: RequestHandler;
  /** The account's withdrawal lock and known devices; a rejection is answered 503. */
  security(user: User): Promise<SecurityView>;
  /** Routes of their own (metrics, the operator console), mounted before the pages. */
  readonly routes?: Router;
  /** Last in the chain: every error becomes a JSON answer, never an HTML page or a stack. */
  readonly errorHandler: ErrorRequestHandler;
  /** Stop their timers and connections; the exchange closes its own HTTP server. */
  close(): Promise<void>;
}

/** What the guards are built from: the exchange's app (before any route) and its stores. */
export interface GuardedExchange {
  readonly app: Express;
  readonly users: UserStore;
  readonly sessions: SessionStore;
  readonly outbox: Outbox;
  readonly options: ExchangeOptions;
}

export type GuardsFactory = (exchange: GuardedExchange) => Promise<ExchangeGuards>;
