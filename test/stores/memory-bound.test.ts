import { createHook } from 'node:async_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { counterSpecs, refList, velocityRefs } from '../../src/signals/velocity.js';
import { StoreConfigError } from '../../src/stores/errors.js';
import { MemoryStore, type MemoryStoreOptions } from '../../src/stores/memory.js';
import type { CounterIncrement, CounterSpec } from '../../src/stores/store.js';

const specs = counterSpecs(resolveConfig({ secret: 'memory-bound-test-secret-0123456789abcdef' }));
const BUCKET = 1;
const open: MemoryStore[] = [];
const store = (options: MemoryStoreOptions) => {
  const s = new MemoryStore(options);
  open.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** One failed login from `ip` against `account`, as the shield records it (read, then add). */
async function failedLogin(s: MemoryStore, ip: string, account: string): Promise<void> {
  const refs = velocityRefs(specs, { ip, subnet: `net-of-${ip}`, account }, BUCKET);
  const { counters } = await s.read({ counters: refList(refs).list, keys: [] });
  const ipAccountBefore = counters[refList(refs).names.indexOf('ipAccount')]?.consumed ?? 0;
  const inc = [refs.ip, refs.subnet, refs.evidence, refs.ipAccount, refs.account].map((ref) => ({ ...ref, points: 1 }));
  if (ipAccountBefore === 0) inc.push({ ...refs.accountsPerIp, points: 1 });
  await s.add(inc);
}

const read = async (s: MemoryStore, spec: CounterSpec, key: string) => (await s.read({ counters: [{ spec, key }], keys: [] })).counters[0];

describe('MemoryStore under a distributed attack', () => {
  it('a flood of 100,000 fresh sources stays under the cap and cannot evict the counters of a source at its limit', async () => {
    // A still clock: on a slow runner the flood outlasts the one-minute wave window.
    const s = store({ maxCounters: 20_000, now: () => 1_000_000 });
    for (let a = 0; a < 25; a++) await failedLogin(s, 'attacker', `victim${a}`);
    for (let i = 0; i < 100_000; i++) await failedLogin(s, `fresh${i}`, `account${i % 5000}`);

    expect(s.counterCount).toBeLessThanOrEqual(20_000);
    expect(s.evictions.counters).toBeGreaterThan(300_000);
    const ip = await read(s, specs.ip, 'attacker');
    expect(ip?.consumed).toBeGreaterThanOrEqual(specs.ip.points);
    expect(ip?.msBeforeNext).toBeGreaterThan(0);
    expect((await read(s, specs.accountsPerIp, 'attacker'))?.consumed).toBeGreaterThanOrEqual(specs.accountsPerIp.points);
    // The global wave evidence is an aggregate too: it kept counting through the flood.
    expect((await read(s, specs.evidence, `all:${BUCKET}`))?.consumed).toBe(100_025);
  }, 180_000); // ~5 s on an idle machine; a loaded CI runner is many times slower.

  it('an attacker at its limit is still counted when it comes back after the flood', async () => {
    const s = store({ maxCounters: 5000 });
    for (let a = 0; a < 20; a++) await failedLogin(s, 'attacker', `victim${a}`);
    for (let i = 0; i < 50_000; i++) await s.add([{ spec: specs.ip, key: `fresh${i}`, points: 1 }]);
    await failedLogin(s, 'attacker', 'victim-next');
    expect((await read(s, specs.ip, 'attacker'))?.consumed).toBe(21);
  });

  it('aggregate counters (subnet, account) outlive per-IP counters with the same count', async () => {
    const s = store({ maxCounters: 3000 });
    const add = (spec: CounterSpec, key: string, points: number): CounterIncrement => ({ spec, key, points });
    for (let i = 0; i < 1000; i++) await s.add([add(specs.ip, `ip${i}`, 5), add(specs.subnet, `net${i}`, 5), add(specs.account, `{a${i}}`, 5)]);
    // 10,000 more per-IP counters at the same count push the table far past its cap.
    for (let i = 0; i < 10_000; i++) await s.add([add(specs.ip, `more${i}`, 5)]);

    const kept = { subnet: 0, account: 0, ip: 0 };
    for (let i = 0; i < 1000; i++) {
      if ((await read(s, specs.subnet, `net${i}`))?.consumed === 5) kept.subnet++;
      if ((await read(s, specs.account, `{a${i}}`))?.consumed === 5) kept.account++;
      if ((await read(s, specs.ip, `ip${i}`))?.consumed === 5) kept.ip++;
    }
    // Sampled eviction is approximate: a sample of 16 holds no per-IP counter ~0.15 % of the time.
    expect(kept.subnet).toBeGreaterThanOrEqual(950);
    expect(kept.account).toBeGreaterThanOrEqual(990);
    expect(kept.ip).toBeLessThan(100);
    expect(s.counterCount).toBe(3000);
  });

  it('among equally informative counters, forgets those nearest the end of their window', async () => {
    const s = store({ maxCounters: 1000 });
    const minute: CounterSpec = { name: 'minute', points: 10, durationSec: 60 };
    const hour: CounterSpec = { name: 'hour', points: 10, durationSec: 3600 };
    for (let i = 0; i < 500; i++) await s.add([{ spec: minute, key: `m${i}`, points: 1 }, { spec: hour, key: `h${i}`, points: 1 }]);
    for (let i = 0; i < 200; i++) await s.add([{ spec: hour, key: `new${i}`, points: 1 }]);
    let minutes = 0;
    let hours = 0;
    for (let i = 0; i < 500; i++) {
      if ((await read(s, minute, `m${i}`))?.consumed) minutes++;
      if ((await read(s, hour, `h${i}`))?.consumed) hours++;
    }
    expect(hours).toBeGreaterThanOrEqual(495);
    expect(minutes).toBeLessThanOrEqual(305);
  });

  it('reuses the slots of expired counters before evicting live ones', async () => {
    let now = 1_000_000;
    const s = store({ maxCounters: 1000, now: () => now });
    const short: CounterSpec = { name: 'short', points: 10, durationSec: 10 };
    for (let i = 0; i < 1000; i++) await s.add([{ spec: short, key: `old${i}`, points: 1 }]);
    now += 11_000;
    for (let i = 0; i < 1000; i++) await s.add([{ spec: short, key: `new${i}`, points: 1 }]);
    expect(s.evictions.counters).toBe(0); // every slot reused was an expired one
    expect(s.counterCount).toBe(1000);
    expect((await read(s, short, 'new999'))?.consumed).toBe(1);
  });

  it('sweeps expired counters and keys without a timer per entry', async () => {
    let now = 1_000_000;
    const s = store({ sweepIntervalMs: 10, now: () => now });
    let timers = 0;
    const hook = createHook({
      init: (_id, type) => {
        if (type === 'Timeout') timers++;
      },
    }).enable();
    try {
      for (let i = 0; i < 1000; i++) {
        await s.add([{ spec: specs.ip, key: `ip${i}`, points: 1 }]);
        await s.set(`chal:{${i}}`, 'record', 5000);
      }
    } finally {
      hook.disable();
    }
    expect(timers).toBe(0);
    expect(s.counterCount).toBe(1000);
    now += specs.ip.durationSec * 1000 + 1;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(s.counterCount).toBe(0);
    expect(s.size).toBe(0);
  });

  it('never evicts a withdrawal lock or hold, whatever floods the store', async () => {
    const s = store({ maxCounters: 100, maxKeys: 100 });
    const now = Date.now();
    for (let i = 0; i < 500; i++) {
      await s.extendLock(`lock:{u${i}}`, { kind: 'password_changed', at: now, until: now + 86_400_000 }, now, 10);
      await s.set(`hold:{u${i}}`, '{"until":1}', 60_000);
    }
    for (let i = 0; i < 20_000; i++) {
      await s.set(`chal:{${i}}`, 'record', 60_000);
      await s.set(`dev:{a${i}}:d`, '1', 60_000);
      await s.add([{ spec: specs.ip, key: `ip${i}`, points: 1 }]);
    }
    for (let i = 0; i < 500; i++) {
      expect(await s.getLock(`lock:{u${i}}`, now)).toBeDefined();
      expect((await s.read({ counters: [], keys: [`hold:{u${i}}`] })).values[0]).toBe('{"until":1}');
    }
  });
});

describe('MemoryStore plain keys under a challenge flood', () => {
  it('evicts challenges oldest first and keeps devices while challenges remain', async () => {
    const s = store({ maxKeys: 1000 });
    for (let i = 0; i < 500; i++) await s.set(`dev:{a${i}}:d`, 'seen', 60_000);
    await s.set('chal:{victim}', 'live challenge', 60_000);
    await s.increment('chal:{victim}:n', 60_000);
    for (let i = 0; i < 10_000; i++) await s.set(`chal:{flood${i}}`, 'record', 60_000);

    expect(s.size).toBe(1000);
    const { values } = await s.read({ counters: [], keys: ['dev:{a0}:d', 'dev:{a499}:d', 'chal:{victim}', 'chal:{flood9999}'] });
    expect(values).toEqual(['seen', 'seen', undefined, 'record']);
    // An evicted challenge is simply unknown: its user is asked again, it never passes.
    expect(await s.take('chal:{victim}')).toBeUndefined();
  });

  it("a challenge's attempt count outlives the challenge it counts", async () => {
    const s = store({ maxKeys: 3 });
    await s.set('chal:{a}', 'record', 60_000);
    expect(await s.increment('chal:{a}:n', 60_000)).toBe(1);
    await s.set('chal:{b}', 'record', 60_000);
    await s.set('chal:{c}', 'record', 60_000);
    const { values } = await s.read({ counters: [], keys: ['chal:{a}', 'chal:{a}:n'] });
    expect(values).toEqual([undefined, '1']);
  });

  it('keeps the key just written even when only other kinds remain to evict', async () => {
    const s = store({ maxKeys: 2 });
    await s.set('dev:{a}:d', 'seen', 60_000);
    await s.set('dev:{b}:d', 'seen', 60_000);
    await s.set('chal:{new}', 'record', 60_000);
    const { values } = await s.read({ counters: [], keys: ['chal:{new}', 'dev:{a}:d', 'dev:{b}:d'] });
    expect(values).toEqual(['record', undefined, 'seen']);
  });
});

describe('MemoryStore options', () => {
  it.each([
    ['maxCounters', 0],
    ['maxKeys', -1],
    ['maxCounters', 1.5],
    ['sweepIntervalMs', Number.NaN],
    ['maxKeys', '1000'],
  ])('refuses %s = %s with a named error and a fix', (name, value) => {
    const attempt = () => new MemoryStore({ [name]: value } as MemoryStoreOptions);
    expect(attempt).toThrow(StoreConfigError);
    expect(attempt).toThrow(expect.objectContaining({ code: 'MEMORY_OPTION_INVALID', fix: expect.stringContaining(String(name)) }));
  });
});
