import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ShieldArgumentError } from '../../src/errors/shield-error.js';
import { StoreConfigError } from '../../src/stores/errors.js';
import type { CounterSpec, LockReason, Store } from '../../src/stores/store.js';

/**
 * The behaviour every Store must share, run against each backend. Keys are unique per test, so
 * one store instance serves the whole suite and tests never see each other's state. Timing
 * assertions leave wide margins: these run on loaded CI machines.
 */
export function describeStoreContract(name: string, makeStore: () => Store | Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeAll(async () => {
      store = await makeStore();
    });

    afterAll(async () => {
      await store?.close();
    });

    const hourly: CounterSpec = { name: 'contract_hourly', points: 5, durationSec: 3600 };
    const minutely: CounterSpec = { name: 'contract_minutely', points: 3, durationSec: 60 };

    it('has a backend name', () => {
      expect(typeof store.name).toBe('string');
      expect(store.name.length).toBeGreaterThan(0);
    });

    describe('counters', () => {
      it('reads a counter that does not exist as 0 with no window', async () => {
        const result = await store.read({ counters: [{ spec: hourly, key: uid() }], keys: [] });
        expect(result.counters).toEqual([{ consumed: 0, msBeforeNext: 0 }]);
        expect(result.values).toEqual([]);
      });

      it('add creates the counter with its window and accumulates without restarting it', async () => {
        const key = uid();
        const [first] = await store.add([{ spec: minutely, key, points: 1 }]);
        expect(first?.consumed).toBe(1);
        expect(first?.msBeforeNext).toBeGreaterThan(50_000);
        expect(first?.msBeforeNext).toBeLessThanOrEqual(60_000);

        const [second] = await store.add([{ spec: minutely, key, points: 2 }]);
        expect(second?.consumed).toBe(3);
        expect(second?.msBeforeNext).toBeLessThanOrEqual((first?.msBeforeNext ?? 0) + 5);

        const { counters } = await store.read({ counters: [{ spec: minutely, key }], keys: [] });
        expect(counters[0]?.consumed).toBe(3);
        expect(counters[0]?.msBeforeNext).toBeGreaterThan(0);
        expect(counters[0]?.msBeforeNext).toBeLessThanOrEqual(second?.msBeforeNext ?? 0);
      });

      it('keeps counting past the limit (recording is not enforcing)', async () => {
        const key = uid();
        for (let i = 0; i < 4; i++) await store.add([{ spec: minutely, key, points: 1 }]);
        const { counters } = await store.read({ counters: [{ spec: minutely, key }], keys: [] });
        expect(counters[0]?.consumed).toBe(4);
      });

      it('keeps families and keys apart', async () => {
        const key = uid();
        const other = uid();
        await store.add([
          { spec: hourly, key, points: 2 },
          { spec: minutely, key, points: 1 },
        ]);
        const { counters } = await store.read({
          counters: [
            { spec: hourly, key },
            { spec: minutely, key },
            { spec: hourly, key: other },
          ],
          keys: [],
        });
        expect(counters.map((c) => c.consumed)).toEqual([2, 1, 0]);
      });

      it('add and read answer in request order, including hash-tagged keys', async () => {
        const account = uid();
        const keys = [`{${account}}:a`, `{${account}}:b`, uid()];
        const added = await store.add(keys.map((key, i) => ({ spec: hourly, key, points: i + 1 })));
        expect(added.map((c) => c.consumed)).toEqual([1, 2, 3]);

        const plain = uid();
        await store.set(plain, 'v', 60_000);
        const result = await store.read({
          counters: [...keys].reverse().map((key) => ({ spec: hourly, key })),
          keys: [uid(), plain],
        });
        expect(result.counters.map((c) => c.consumed)).toEqual([3, 2, 1]);
        expect(result.values).toEqual([undefined, 'v']);
      });

      it('does not lose concurrent additions', async () => {
        const key = uid();
        await Promise.all(Array.from({ length: 20 }, () => store.add([{ spec: hourly, key, points: 1 }])));
        const { counters } = await store.read({ counters: [{ spec: hourly, key }], keys: [] });
        expect(counters[0]?.consumed).toBe(20);
      });

      it('takes points back with a negative add, never below zero and never creating a counter', async () => {
        const key = uid();
        await store.add([{ spec: minutely, key, points: 2 }]);
        const [back] = await store.add([{ spec: minutely, key, points: -1 }]);
        expect(back?.consumed).toBe(1);
        expect(back?.msBeforeNext).toBeGreaterThan(0);
        const [floor] = await store.add([{ spec: minutely, key, points: -5 }]);
        expect(floor?.consumed).toBe(0);
        const fresh = uid();
        const [none] = await store.add([{ spec: minutely, key: fresh, points: -1 }]);
        expect(none?.consumed).toBe(0);
        const [after] = await store.add([{ spec: minutely, key: fresh, points: 1 }]);
        expect(after?.consumed).toBe(1);
      });

      it('reading a counter never creates it nor starts its window', async () => {
        const key = uid();
        for (let i = 0; i < 3; i++) await store.read({ counters: [{ spec: minutely, key }], keys: [] });
        const [first] = await store.add([{ spec: minutely, key, points: 1 }]);
        expect(first?.consumed).toBe(1);
        expect(first?.msBeforeNext).toBeGreaterThan(50_000);
      });

      it('a reset counter stays gone when points are taken back afterwards', async () => {
        const key = uid();
        await store.add([{ spec: minutely, key, points: 2 }]);
        await store.reset([{ spec: minutely, key }]);
        const [back] = await store.add([{ spec: minutely, key, points: -1 }]);
        expect(back).toEqual({ consumed: 0, msBeforeNext: 0 });
        expect((await store.read({ counters: [{ spec: minutely, key }], keys: [] })).counters).toEqual([{ consumed: 0, msBeforeNext: 0 }]);
      });

      it('a plain key named like a counter is a different entry', async () => {
        const key = uid();
        await store.set(`${minutely.name}:${key}`, 'plain', 60_000);
        await store.set(key, 'plain too', 60_000);
        const { counters, values } = await store.read({ counters: [{ spec: minutely, key }], keys: [`${minutely.name}:${key}`, key] });
        expect(counters).toEqual([{ consumed: 0, msBeforeNext: 0 }]);
        expect(values).toEqual(['plain', 'plain too']);
        await store.add([{ spec: minutely, key, points: 1 }]);
        expect((await store.read({ counters: [], keys: [`${minutely.name}:${key}`, key] })).values).toEqual(['plain', 'plain too']);
      });

      it('sync.read, where a store offers it, answers exactly what read answers', async () => {
        if (store.sync === undefined) return;
        const key = uid();
        await store.add([{ spec: minutely, key, points: 2 }]);
        await store.set(`v:${key}`, 'value', 60_000);
        const request = { counters: [{ spec: minutely, key }, { spec: hourly, key: uid() }], keys: [`v:${key}`, `missing:${key}`] };
        const now = store.sync.read(request);
        expect(now.counters[0]?.consumed).toBe(2);
        expect(now.values).toEqual(['value', undefined]);
        const later = await store.read(request);
        expect(later.values).toEqual(now.values);
        expect(later.counters.map((c) => c.consumed)).toEqual(now.counters.map((c) => c.consumed));
      });

      it('sync.add and sync.reset count exactly as add and reset do, on the same counters', async () => {
        if (store.sync === undefined) return;
        const [viaAdd, viaSync] = [uid(), uid()];
        const steps = [2, -1, -5, 3, 1];
        for (const points of steps) {
          const [a] = await store.add([{ spec: minutely, key: viaAdd, points }]);
          const [b] = store.sync.add([{ spec: minutely, key: viaSync, points }]);
          expect(b?.consumed).toBe(a?.consumed);
        }
        const request = { counters: [{ spec: minutely, key: viaAdd }, { spec: minutely, key: viaSync }], keys: [] };
        expect(store.sync.read(request).counters.map((c) => c.consumed)).toEqual([4, 4]);
        // Taking back what was never counted mints nothing.
        expect(store.sync.add([{ spec: minutely, key: uid(), points: -1 }])).toEqual([{ consumed: 0, msBeforeNext: 0 }]);
        store.sync.reset([{ spec: minutely, key: viaSync }]);
        await store.reset([{ spec: minutely, key: viaAdd }]);
        expect((await store.read(request)).counters).toEqual([
          { consumed: 0, msBeforeNext: 0 },
          { consumed: 0, msBeforeNext: 0 },
        ]);
        expect(() => store.sync?.add([{ spec: minutely, key: viaSync, points: 0.5 }])).toThrow();
        store.sync.set(`v:${viaSync}`, 'kept', 60_000);
        expect(await store.take(`v:${viaSync}`)).toBe('kept');
      });

      it('refuses fractional points with a named error, before applying any increment', async () => {
        const key = uid();
        const error = await store
          .add([
            { spec: hourly, key, points: 1 },
            { spec: hourly, key: uid(), points: 0.5 },
          ])
          .then(() => undefined, (e: unknown) => e);
        expect(error).toBeInstanceOf(ShieldArgumentError);
        expect(error).toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect((await store.read({ counters: [{ spec: hourly, key }], keys: [] })).counters[0]?.consumed).toBe(0);
      });

      it('refuses a counter family that never expires or would break Cluster slots', async () => {
        for (const spec of [
          { name: 'contract_zero', points: 1, durationSec: 0 },
          { name: 'contract_negative', points: 1, durationSec: -5 },
          { name: 'contract{tag}', points: 1, durationSec: 60 },
          { name: '', points: 1, durationSec: 60 },
        ]) {
          for (const call of [() => store.add([{ spec, key: uid(), points: 1 }]), () => store.read({ counters: [{ spec, key: uid() }], keys: [] })]) {
            const error = await call().then(() => undefined, (e: unknown) => e);
            expect(error, spec.name).toBeInstanceOf(StoreConfigError);
            expect(error, spec.name).toMatchObject({ code: 'COUNTER_SPEC_INVALID' });
          }
        }
      });

      it('answers empty requests with empty results', async () => {
        expect(await store.read({ counters: [], keys: [] })).toEqual({ counters: [], values: [] });
        expect(await store.add([])).toEqual([]);
        await expect(store.reset([])).resolves.toBeUndefined();
      });

      it('reset deletes the given counters only (missing ones are fine)', async () => {
        const key = uid();
        const kept = uid();
        await store.add([
          { spec: hourly, key, points: 2 },
          { spec: hourly, key: kept, points: 1 },
        ]);
        await store.reset([
          { spec: hourly, key },
          { spec: hourly, key: uid() },
        ]);
        const { counters } = await store.read({
          counters: [
            { spec: hourly, key },
            { spec: hourly, key: kept },
          ],
          keys: [],
        });
        expect(counters).toEqual([{ consumed: 0, msBeforeNext: 0 }, expect.objectContaining({ consumed: 1 })]);
        const [fresh] = await store.add([{ spec: hourly, key, points: 1 }]);
        expect(fresh?.consumed).toBe(1);
      });

      it('ends the window after durationSec and starts a new one', async () => {
        const spec: CounterSpec = { name: 'contract_second', points: 2, durationSec: 1 };
        const key = uid();
        const [first] = await store.add([{ spec, key, points: 2 }]);
        expect(first?.consumed).toBe(2);
        expect(first?.msBeforeNext).toBeLessThanOrEqual(1000);
        await sleep((first?.msBeforeNext ?? 1000) + 150);
        const { counters } = await store.read({ counters: [{ spec, key }], keys: [] });
        expect(counters[0]).toEqual({ consumed: 0, msBeforeNext: 0 });
        const [again] = await store.add([{ spec, key, points: 1 }]);
        expect(again?.consumed).toBe(1);
        expect(again?.msBeforeNext).toBeGreaterThan(500);
      });
    });

    describe('values', () => {
      it('set then read; a missing key reads as undefined', async () => {
        const key = uid();
        const value = JSON.stringify({ text: 'ünïcode — "quoted" / \\', n: 1 });
        await store.set(key, value, 60_000);
        const { values } = await store.read({ counters: [], keys: [key, uid()] });
        expect(values).toEqual([value, undefined]);
      });

      it('set overwrites the value', async () => {
        const key = uid();
        await store.set(key, 'one', 60_000);
        await store.set(key, 'two', 60_000);
        expect((await store.read({ counters: [], keys: [key] })).values).toEqual(['two']);
      });

      it('a value expires after ttlMs', async () => {
        const key = uid();
        const taken = uid();
        await store.set(key, 'short', 150);
        await store.set(taken, 'short', 150);
        await sleep(300);
        expect((await store.read({ counters: [], keys: [key] })).values).toEqual([undefined]);
        expect(await store.take(taken)).toBeUndefined();
        expect(await store.delete(key)).toBe(false);
      });

      it('take returns the value once and removes it', async () => {
        const key = uid();
        await store.set(key, 'challenge', 60_000);
        expect(await store.take(key)).toBe('challenge');
        expect(await store.take(key)).toBeUndefined();
        expect((await store.read({ counters: [], keys: [key] })).values).toEqual([undefined]);
      });

      it('10 concurrent takes of one key: exactly one gets the value', async () => {
        const key = uid();
        await store.set(key, 'once', 60_000);
        const results = await Promise.all(Array.from({ length: 10 }, () => store.take(key)));
        expect(results.filter((r) => r !== undefined)).toEqual(['once']);
      });

      it('delete reports whether the key existed', async () => {
        const key = uid();
        await store.set(key, 'x', 60_000);
        expect(await store.delete(key)).toBe(true);
        expect(await store.delete(key)).toBe(false);
        expect((await store.read({ counters: [], keys: [key] })).values).toEqual([undefined]);
      });

      it('rejects a TTL that is not a positive number (nothing lives forever)', async () => {
        for (const ttl of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
          for (const call of [() => store.set(uid(), 'x', ttl), () => store.increment(uid(), ttl)]) {
            const error = await call().then(() => undefined, (e: unknown) => e);
            expect(error).toBeInstanceOf(ShieldArgumentError);
            expect(error).toMatchObject({ code: 'INVALID_ARGUMENT', fix: expect.stringMatching(/\w/) });
          }
        }
      });
    });

    describe('increment', () => {
      it('counts from 1 and is atomic under concurrency', async () => {
        const key = uid();
        expect(await store.increment(key, 60_000)).toBe(1);
        const results = await Promise.all(Array.from({ length: 19 }, () => store.increment(key, 60_000)));
        expect(results.sort((a, b) => a - b)).toEqual(Array.from({ length: 19 }, (_, i) => i + 2));
      });

      it('sets the TTL when the counter is created and never extends it', async () => {
        const key = uid();
        const started = Date.now();
        expect(await store.increment(key, 1000)).toBe(1);
        await sleep(400);
        const second = await store.increment(key, 1000);
        const secondAt = Date.now() - started;
        // If the machine stalled past the TTL, the second call created a new counter and this
        // run cannot tell the difference; that is a skipped check, not a pass.
        if (secondAt >= 900 || second !== 2) {
          expect(second === 2 || secondAt >= 1000).toBe(true);
          return;
        }
        // A refreshed TTL would keep the counter until ~1400 ms; created-only ends it at 1000.
        await sleep(Math.max(0, 1200 - (Date.now() - started)));
        expect(await store.increment(key, 1000)).toBe(1);
      });
    });

    describe('withdrawal locks', () => {
      const reason = (kind: string, at: number, until: number, extra: Partial<LockReason> = {}): LockReason => ({
        kind,
        at,
        until,
        ...extra,
      });

      it('has no lock for an unknown key', async () => {
        expect(await store.getLock(uid(), Date.now())).toBeUndefined();
        expect(await store.clearLock(uid(), Date.now())).toBeUndefined();
      });

      it('extendLock creates a lock that getLock returns as stored', async () => {
        const key = uid();
        const now = Date.now();
        const cause = reason('password_changed', now, now + 86_400_000, { detail: 'reset vïa e-mail "link" / 2', actor: 'user' });
        const lock = await store.extendLock(key, cause, now, 10);
        expect(lock).toEqual({ until: now + 86_400_000, reasons: [cause] });
        expect(await store.getLock(key, now + 1)).toEqual(lock);
      });

      it('keeps epoch milliseconds exact', async () => {
        const key = uid();
        const now = Date.now();
        const until = 4_102_444_800_123; // 2100-01-01T00:00:00.123Z
        const lock = await store.extendLock(key, reason('api_key', now + 7, until), now, 10);
        expect(lock.until).toBe(until);
        expect((await store.getLock(key, now))?.reasons[0]).toEqual({ kind: 'api_key', at: now + 7, until });
        await store.clearLock(key, now);
      });

      it('never shortens a lock: until is the latest of all causes', async () => {
        const key = uid();
        const now = Date.now();
        await store.extendLock(key, reason('a', now, now + 600_000), now, 10);
        const shorter = await store.extendLock(key, reason('b', now + 1, now + 60_000), now + 1, 10);
        expect(shorter.until).toBe(now + 600_000);
        expect(shorter.reasons.map((r) => r.kind)).toEqual(['a', 'b']);
        const longer = await store.extendLock(key, reason('c', now + 2, now + 1_200_000), now + 2, 10);
        expect(longer.until).toBe(now + 1_200_000);
        expect(await store.getLock(key, now + 3)).toEqual(longer);
      });

      it('keeps only the newest maxReasons reasons, oldest first', async () => {
        const key = uid();
        const now = Date.now();
        for (let i = 0; i < 5; i++) await store.extendLock(key, reason(`k${i}`, now + i, now + 60_000), now + i, 3);
        const lock = await store.getLock(key, now + 5);
        expect(lock?.reasons.map((r) => r.kind)).toEqual(['k2', 'k3', 'k4']);
      });

      it('merges concurrent extensions without losing any', async () => {
        const key = uid();
        const now = Date.now();
        const untils = Array.from({ length: 10 }, (_, i) => now + 60_000 + ((i * 7919) % 10) * 1000);
        await Promise.all(untils.map((until, i) => store.extendLock(key, reason(`c${i}`, now, until), now, 20)));
        const lock = await store.getLock(key, now);
        expect(lock?.until).toBe(Math.max(...untils));
        expect(lock?.reasons.map((r) => r.kind).sort()).toEqual(untils.map((_, i) => `c${i}`).sort());
      });

      it('a lock that has ended (by the caller clock) is gone and is replaced, not extended', async () => {
        const key = uid();
        const now = Date.now();
        await store.extendLock(key, reason('old', now, now + 60_000), now, 10);
        expect(await store.getLock(key, now + 60_000)).toBeUndefined();
        const later = now + 120_000;
        const fresh = await store.extendLock(key, reason('new', later, later + 60_000), later, 10);
        expect(fresh).toEqual({ until: later + 60_000, reasons: [reason('new', later, later + 60_000)] });
      });

      it('a lock expires in real time when until passes', async () => {
        const key = uid();
        const now = Date.now();
        await store.extendLock(key, reason('short', now, now + 200), now, 10);
        expect(await store.getLock(key, Date.now())).toBeDefined();
        await sleep(350);
        expect(await store.getLock(key, Date.now())).toBeUndefined();
      });

      it('refuses lock arguments that are not epoch milliseconds or a bound', async () => {
        const now = Date.now();
        for (const [reason, at, max] of [
          [{ kind: 'k', at: now, until: Number.NaN }, now, 5],
          [{ kind: 'k', at: Number.POSITIVE_INFINITY, until: now + 1000 }, now, 5],
          [{ kind: 'k', at: now, until: now + 1000 }, Number.NaN, 5],
          [{ kind: 'k', at: now, until: now + 1000 }, now, 0],
        ] as const) {
          const key = uid();
          await expect(store.extendLock(key, reason, at, max)).rejects.toMatchObject({ name: 'ShieldArgumentError', code: 'INVALID_ARGUMENT' });
          expect(await store.getLock(key, now)).toBeUndefined();
        }
      });

      it('clearLock removes the lock and returns what it removed', async () => {
        const key = uid();
        const now = Date.now();
        const lock = await store.extendLock(key, reason('email_changed', now, now + 3_600_000), now, 10);
        expect(await store.clearLock(key, now + 1)).toEqual(lock);
        expect(await store.getLock(key, now + 1)).toBeUndefined();
        expect(await store.clearLock(key, now + 1)).toBeUndefined();
      });
    });
  });
}

export function uid(): string {
  return randomUUID().replaceAll('-', '').slice(0, 16);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
