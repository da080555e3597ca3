import { createRequire } from 'node:module';
import type { RateLimiterStoreAbstract } from 'rate-limiter-flexible';

/**
 * rate-limiter-flexible's base for store-backed limiters: a subclass supplies `_upsert`, `_get`,
 * `_delete` and `_getRateLimiterRes`, and the library keeps its part (keys, points, penalty,
 * reward, get, delete and their results). The package declares the class in its types but its
 * index does not export it at run time (11.4.0), so it is loaded from the file every
 * store-backed limiter of the package extends.
 */
export const StoreAbstract = createRequire(import.meta.url)(
  'rate-limiter-flexible/lib/RateLimiterStoreAbstract.js',
) as typeof RateLimiterStoreAbstract;
