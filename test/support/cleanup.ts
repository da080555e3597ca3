import { afterEach } from 'vitest';
import type { Shield } from '../../src/index.js';
import type { RedisProcess } from './redis.js';

/** A test file's shield and Redis, closed after each test: set `current.shield` / `current.redis`. */
export function useCleanup(): { shield?: Shield; redis?: RedisProcess } {
  const current: { shield?: Shield; redis?: RedisProcess } = {};
  afterEach(async () => {
    await current.shield?.close();
    current.shield = undefined;
    await current.redis?.stop();
    current.redis = undefined;
  });
  return current;
}
