/**
 * Types `req.shield` on Express's own `Request`, so an app's handlers read
 * `req.shield?.userId` without a cast. Both Express 4 and 5 typings build their `Request` on
 * the global `Express.Request` interface (as passport's `req.user` does), which is why the
 * merge goes there rather than into `express-serve-static-core`, whose `Request` type
 * parameters differ between the two majors. Shipped with the types: `index.d.ts` imports it.
 */
import type { ShieldRequestState } from './request-state.js';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- the only way to merge into Express's global Request
  namespace Express {
    interface Request {
      /** Set by every account-shield guard: the decision, and after login or step-up the user id. */
      shield?: ShieldRequestState;
    }
  }
}

export {};
