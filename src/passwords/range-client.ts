/**
 * k-anonymity range client for a Pwned Passwords style API: only the first five hex digits
 * of the password's SHA-1 leave the process (`GET {base}/range/{prefix}`); the match against
 * the returned suffixes happens here. With `Add-Padding: true` the server pads each answer
 * with count-0 decoys so the response size does not hint at the prefix either.
 *
 * It fails open: a timeout, a network error or a bad answer resolves `false` and is reported
 * through `onError`, because a third-party outage must not stop logins or password changes.
 */
import { createHash } from 'node:crypto';
import { fn, type Input, number, resolveShape, string } from '../config/schema.js';
import type { BreachedPasswordSource } from './source.js';

/** Options of the range client, declared once (check, default, type). */
const rangeClientShape = {
  /** Default `https://api.pwnedpasswords.com`. */
  baseUrl: string().default('https://api.pwnedpasswords.com'),
  /** Whole request, body included. Default 1500 ms. */
  timeoutMs: number({ positive: true }).default(1500),
  /** Prefixes remembered. Default 1000 (a padded answer is ~ 35 kB; the cache keeps matches only). */
  cacheSize: number({ integer: true, positive: true }).default(1000),
  /** How long a prefix's answer is reused. Default 1 hour (the dataset changes rarely). */
  cacheTtlMs: number({ positive: true }).default(3_600_000),
  /** A password seen fewer times than this is not reported. Default 1. */
  minCount: number({ positive: true }).default(1),
  /** Answers larger than this are refused (a misbehaving server cannot exhaust memory). */
  maxResponseBytes: number({ integer: true, positive: true }).default(1 << 20),
  userAgent: string().default('account-shield'),
  onError: fn<(error: Error) => void>(),
};

export type RangeClientOptions = Input<typeof rangeClientShape>;

interface CacheEntry {
  readonly expiresAt: number;
  /** Upper-case suffix → count, for counts ≥ 1 only (padding is dropped). */
  readonly counts: ReadonlyMap<string, number>;
}

export class RangeClientError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RangeClientError';
  }
}

const SUFFIX_LINE = /^([0-9A-F]{35}):(\d+)$/;

export class PwnedPasswordsRangeClient implements BreachedPasswordSource {
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #cacheSize: number;
  readonly #cacheTtlMs: number;
  readonly #minCount: number;
  readonly #maxResponseBytes: number;
  readonly #userAgent: string;
  readonly #onError: ((error: Error) => void) | undefined;
  /** Insertion order is recency order: a hit is moved to the end, the first entry is evicted. */
  readonly #cache = new Map<string, CacheEntry>();
  /** Concurrent checks of passwords sharing a prefix share one request. */
  readonly #inFlight = new Map<string, Promise<CacheEntry>>();

  constructor(options: RangeClientOptions = {}) {
    const o = resolveShape(rangeClientShape, options, 'PwnedPasswordsRangeClient options');
    this.#baseUrl = o.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = o.timeoutMs;
    this.#cacheSize = o.cacheSize;
    this.#cacheTtlMs = o.cacheTtlMs;
    this.#minCount = o.minCount;
    this.#maxResponseBytes = o.maxResponseBytes;
    this.#userAgent = o.userAgent;
    this.#onError = o.onError;
  }

  async isBreached(password: string): Promise<boolean> {
    const hex = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = hex.slice(0, 5);
    try {
      const entry = await this.#lookup(prefix);
      return (entry.counts.get(hex.slice(5)) ?? 0) >= this.#minCount;
    } catch (error) {
      this.#onError?.(error instanceof Error ? error : new RangeClientError(String(error)));
      return false;
    }
  }

  /** Number of prefixes currently cached (for metrics and tests). */
  get cacheEntries(): number {
    return this.#cache.size;
  }

  clearCache(): void {
    this.#cache.clear();
  }

  #lookup(prefix: string): Promise<CacheEntry> {
    const cached = this.#cache.get(prefix);
    if (cached !== undefined && cached.expiresAt > Date.now()) {
      this.#cache.delete(prefix);
      this.#cache.set(prefix, cached);
      return Promise.resolve(cached);
    }
    const pending = this.#inFlight.get(prefix);
    if (pending !== undefined) return pending;
    const request = this.#fetchRange(prefix)
      .then((entry) => {
        this.#cache.delete(prefix);
        this.#cache.set(prefix, entry);
        while (this.#cache.size > this.#cacheSize) {
          const oldest = this.#cache.keys().next().value;
          if (oldest === undefined) break;
          this.#cache.delete(oldest);
        }
        return entry;
      })
      .finally(() => this.#inFlight.delete(prefix));
    this.#inFlight.set(prefix, request);
    return request;
  }

  async #fetchRange(prefix: string): Promise<CacheEntry> {
    const url = `${this.#baseUrl}/range/${prefix}`;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await fetch(url, { headers: { 'Add-Padding': 'true', 'User-Agent': this.#userAgent }, signal });
    } catch (error) {
      throw new RangeClientError(`range request failed: ${reason(error)}`, { cause: error });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => {});
      throw new RangeClientError(`range request answered HTTP ${response.status}`);
    }
    const text = await this.#readCapped(response);
    const counts = new Map<string, number>();
    for (const rawLine of text.split('\n')) {
      const line = rawLine.trim().toUpperCase();
      if (line.length === 0) continue;
      const match = SUFFIX_LINE.exec(line);
      if (match === null) throw new RangeClientError('range answer is not in SUFFIX:COUNT form');
      const count = Number(match[2]);
      // Padding lines carry count 0; they are decoys, not breached passwords.
      if (count > 0) counts.set(match[1]!, count);
    }
    return { expiresAt: Date.now() + this.#cacheTtlMs, counts };
  }

  async #readCapped(response: Response): Promise<string> {
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > this.#maxResponseBytes) {
      await response.body?.cancel().catch(() => {});
      throw new RangeClientError(`range answer of ${declared} bytes exceeds ${this.#maxResponseBytes}`);
    }
    if (response.body === null) return '';
    const decoder = new TextDecoder();
    let text = '';
    let bytes = 0;
    try {
      for await (const chunk of response.body) {
        bytes += chunk.byteLength;
        if (bytes > this.#maxResponseBytes) {
          throw new RangeClientError(`range answer exceeds ${this.#maxResponseBytes} bytes`);
        }
        text += decoder.decode(chunk, { stream: true });
      }
    } catch (error) {
      if (error instanceof RangeClientError) throw error;
      throw new RangeClientError(`range answer could not be read: ${reason(error)}`, { cause: error });
    }
    return text + decoder.decode();
  }
}

function reason(error: unknown): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return 'timed out';
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  return cause?.code ?? (error instanceof Error ? error.message : String(error));
}

export function createRangeClient(options: RangeClientOptions = {}): PwnedPasswordsRangeClient {
  return new PwnedPasswordsRangeClient(options);
}
