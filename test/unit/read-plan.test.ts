import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { loginSignals } from '../../src/engine/engine.js';
import { ReadPlanner, type ReturningSlot, valueAt } from '../../src/engine/read-plan.js';
import { counterSpecs, refList, velocityRefs } from '../../src/signals/velocity.js';
import { storeKeys } from '../../src/stores/key-layout.js';

const specs = counterSpecs(resolveConfig({ secret: 'read-plan-test-secret-0123456789abcdef' }));

describe('ReadPlanner: memoised parts, the same read as the uncached refs', () => {
  it('reads exactly the counters velocityRefs names, in refList order, for fresh and repeated ids alike', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const cases = [
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1' },
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1', device: 'dev-1' },
      { account: 'acct-b', ip: 'ip-1', subnet: 'net-1' },
      { account: 'acct-a', ip: 'ip-2', subnet: 'net-2', site: 'site-2' },
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1', device: 'dev-1' },
    ];
    for (const bucket of [100, 100, 101]) {
      for (const ids of cases) {
        const plan = planner.plan(ids, bucket, 'login', [], slot);
        const expected = refList(velocityRefs(specs, ids, bucket));
        expect(plan.refs).toEqual(velocityRefs(specs, ids, bucket));
        expect(plan.names).toEqual(expected.names);
        expect(plan.request.counters).toEqual(expected.list);
      }
    }
  });

  it('names the plain keys by position, device keys only with a device, and the route’s own counters last', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const own = { spec: { name: 'own', points: 3, durationSec: 60 }, key: 'k' };
    const plan = planner.plan({ account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' }, 7, 'login', [own], slot);
    const keys = plan.request.keys;
    expect(valueAt(keys, plan.at.flags)).toBe(storeKeys.passwordFlags('acct'));
    expect(valueAt(keys, plan.at.wave)).toBe(storeKeys.waveFlag());
    expect(valueAt(keys, plan.at.recentChange)).toBe(storeKeys.recentChange('acct'));
    expect(valueAt(keys, plan.at.baseline)).toBe(storeKeys.waveBaseline());
    expect(valueAt(keys, plan.at.knownDevice)).toBe(storeKeys.knownDevice('acct', 'dev'));
    expect(valueAt(keys, plan.at.secondFactorPass)).toBe(storeKeys.secondFactorPass('acct', 'dev'));
    expect(plan.request.counters.at(-1)).toBe(own);
    expect(plan.request.counters).toHaveLength(plan.names.length + 1);
    // Without a device: a signed-in change reads the flags and its recent change; a login reads the wave's keys only.
    const change = planner.plan({ account: 'acct', ip: 'ip', subnet: 'net' }, 7, 'change', [], slot);
    expect(change.request.keys).toEqual([storeKeys.passwordFlags('acct'), storeKeys.waveFlag(), storeKeys.recentChange('acct'), storeKeys.waveBaseline()]);
    expect([change.at.knownDevice, change.at.secondFactorPass]).toEqual([undefined, undefined]);
    const stranger = planner.plan({ account: 'acct', ip: 'ip', subnet: 'net' }, 7, 'login', [], slot);
    expect(stranger.request.keys).toEqual([storeKeys.waveFlag(), storeKeys.waveBaseline()]);
    expect([valueAt(['w', 'b'], stranger.at.wave), valueAt(['w', 'b'], stranger.at.baseline), stranger.at.flags, stranger.at.recentChange]).toEqual(['w', 'b', undefined, undefined]);
    expect(stranger.request.counters).toEqual(refList(velocityRefs(specs, { account: 'acct', ip: 'ip', subnet: 'net' }, 7)).list);
  });

  it('keeps a returning device’s whole plan, frozen, only while its account, address and bucket match', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const ids = { account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' };
    const first = planner.plan(ids, 7, 'login', [], slot);
    expect(planner.plan({ ...ids }, 7, 'login', [], slot)).toBe(first);
    expect(Object.isFrozen(first.request.counters) && Object.isFrozen(first.request.keys)).toBe(true);
    for (const changed of [{ ...ids, account: 'other' }, { ...ids, ip: 'ip-2', subnet: 'net-2' }]) {
      const plan = planner.plan(changed, 7, 'login', [], slot);
      expect(plan).not.toBe(first);
      expect(plan.request.counters).toEqual(refList(velocityRefs(specs, changed, 7)).list);
    }
    const nextBucket = planner.plan(ids, 8, 'login', [], slot);
    expect(nextBucket.refs.evidence.key).toBe('all:8');
    // A route's own counters are never folded into a kept plan.
    const own = { spec: { name: 'own', points: 3, durationSec: 60 }, key: 'k' };
    expect(planner.plan(ids, 8, 'login', [own], slot).request.counters.at(-1)).toBe(own);
    expect(planner.plan(ids, 8, 'login', [], slot).request.counters).not.toContain(own);
  });

  it('once a whole read finds the device known, reads only what scores a known device, and reads everything again when it is not', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const ids = { account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' };
    const whole = planner.plan(ids, 7, 'login', [], slot);
    const found = (plan: typeof whole, known: boolean) => plan.request.keys.map((key) => (key === storeKeys.knownDevice('acct', 'dev') && known ? '1700000000000' : undefined));
    // Not known yet: the whole read stands, and so does the next plan.
    expect(planner.recheck(ids, 7, whole, found(whole, false), slot)).toBeUndefined();
    expect(planner.plan(ids, 7, 'login', [], slot)).toBe(whole);
    expect(planner.recheck(ids, 7, whole, found(whole, true), slot)).toBeUndefined();
    const cut = planner.plan(ids, 7, 'login', [], slot);
    expect(cut).not.toBe(whole);
    expect(cut.whole).toBe(whole);
    // The same refs (what an outcome counts); of the counters only the account's failures from this address.
    expect(cut.refs).toBe(whole.refs);
    expect(cut.names).toEqual(['ipAccount']);
    expect(cut.request.counters).toEqual([whole.refs.ipAccount]);
    expect(cut.request.keys).toEqual([storeKeys.passwordFlags('acct'), storeKeys.knownDevice('acct', 'dev'), storeKeys.secondFactorPass('acct', 'dev')]);
    expect([cut.at.wave, cut.at.baseline, cut.at.recentChange]).toEqual([undefined, undefined, undefined]);
    // Still known: the cut read stands. Forgotten: read the whole plan now, and from then on.
    expect(planner.recheck(ids, 7, cut, found(cut, true), slot)).toBeUndefined();
    expect(planner.recheck(ids, 7, cut, found(cut, false), slot)).toBe(whole);
    expect(planner.plan(ids, 7, 'login', [], slot)).toBe(whole);
  });

  it('keeps the known-device cut from one bucket to the next without building anything, and reads the new bucket whole when the device is no longer known', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const ids = { account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' };
    const whole = planner.plan(ids, 7, 'login', [], slot);
    const found = (plan: typeof whole, known: boolean) => plan.request.keys.map((_, i) => (i === plan.at.knownDevice && known ? '1' : undefined));
    planner.recheck(ids, 7, whole, found(whole, true), slot);
    const cut = planner.plan(ids, 7, 'login', [], slot);
    expect(cut.whole).toBe(whole);
    // A minute later: the same cut (it reads no bucket's counters), not a new one.
    expect(planner.plan(ids, 8, 'login', [], slot)).toBe(cut);
    expect(planner.recheck(ids, 8, cut, found(cut, true), slot)).toBeUndefined();
    // Forgotten meanwhile: the whole read is of bucket 8, not of the bucket the cut was made in.
    const instead = planner.recheck(ids, 8, cut, found(cut, false), slot);
    expect(instead?.refs.evidence.key).toBe('all:8');
    expect(instead?.refs.evidencePrevious.key).toBe('all:7');
    expect(instead?.request.counters).toEqual(refList(velocityRefs(specs, ids, 8)).list);
  });

  it('keeps the known-device cut across a new address or bucket of the same account, never for another account or a route’s own counters', () => {
    const planner = new ReadPlanner(specs);
    const slot: ReturningSlot = { returning: undefined };
    const ids = { account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' };
    const whole = planner.plan(ids, 7, 'login', [], slot);
    planner.recheck(ids, 7, whole, whole.request.keys.map((_, i) => (i === whole.at.knownDevice ? '1' : undefined)), slot);
    const moved = planner.plan({ ...ids, ip: 'ip-2', subnet: 'net-2' }, 8, 'login', [], slot);
    expect(moved.whole).toBeDefined();
    expect(moved.request.counters).toEqual([velocityRefs(specs, { ...ids, ip: 'ip-2', subnet: 'net-2' }, 8).ipAccount]);
    expect(planner.plan({ ...ids, account: 'other' }, 8, 'login', [], slot).whole).toBeUndefined();
    // The other account's plan replaced the kept one: back on the first account, a whole read first.
    expect(planner.plan(ids, 8, 'login', [], slot).whole).toBeUndefined();
    const own = { spec: { name: 'own', points: 3, durationSec: 60 }, key: 'k' };
    expect(planner.plan(ids, 8, 'login', [own], slot).whole).toBeUndefined();
    expect(planner.plan({ account: 'acct', ip: 'ip', subnet: 'net' }, 8, 'login', [], slot).whole).toBeUndefined();
  });
});

describe('the known-device read leaves out only what no login signal scores a known device on', () => {
  it('every signal answers a known device the same whatever the counters, wave, listed password and recent change it would not read', () => {
    const config = resolveConfig({ secret: 'read-plan-test-secret-0123456789abcdef' });
    const names = ['ip', 'subnet', 'site', 'listedPasswords', 'accountsPerIp', 'account', 'evidence', 'evidencePrevious'] as const;
    const base = (ipAccount: number, flags: { score: number; breached: boolean } | undefined, leaked: boolean, route: 'login' | 'change') => ({
      config,
      route,
      deviceKnown: true,
      leakedAddress: leaked,
      passwordFlags: flags,
    });
    const reasons = (input: Parameters<(typeof loginSignals)[number]>[0]) => loginSignals.flatMap((signal) => signal(input));
    for (const ipAccount of [0, 3, 50]) {
      for (const flags of [undefined, { score: 0, breached: true }, { score: 4, breached: false }]) {
        for (const leaked of [false, true]) {
          for (const route of ['login', 'change'] as const) {
            // What the known-device read gives: its one counter, nothing of the rest.
            const expected = reasons({ ...base(ipAccount, flags, leaked, route), counters: new Map([['ipAccount', { consumed: ipAccount, msBeforeNext: 1000 }]]), waveActive: false, recentChangeAt: undefined });
            for (let trial = 0; trial < 20; trial++) {
              const whole = new Map<string, { consumed: number; msBeforeNext: number }>(names.map((name) => [name, { consumed: Math.floor(Math.random() * 1000), msBeforeNext: 1000 }]));
              whole.set('ipAccount', { consumed: ipAccount, msBeforeNext: 1000 });
              const got = reasons({ ...base(ipAccount, flags, leaked, route), counters: whole, waveActive: trial % 2 === 0, listedPassword: trial % 3 === 0, recentChangeAt: trial % 4 === 0 ? Date.now() : undefined });
              expect(got).toEqual(expected);
            }
          }
        }
      }
    }
  });
});

describe('a login without a device cookie reads neither the password flags nor a recent change', () => {
  it('every signal answers a cookie-less login the same whatever flags or recent change the account has', () => {
    const config = resolveConfig({ secret: 'read-plan-test-secret-0123456789abcdef' });
    const counters = new Map([['ip', { consumed: 7, msBeforeNext: 1000 }]]);
    for (const leaked of [false, true]) {
      for (const listed of [false, true]) {
        const input = { config, route: 'login' as const, counters, deviceKnown: undefined, leakedAddress: leaked, listedPassword: listed, waveActive: listed };
        const expected = loginSignals.flatMap((signal) => signal({ ...input, passwordFlags: undefined, recentChangeAt: undefined }));
        for (const flags of [{ score: 0, breached: true }, { score: 4, breached: false }]) {
          for (const recentChangeAt of [undefined, Date.now()]) {
            expect(loginSignals.flatMap((signal) => signal({ ...input, passwordFlags: flags, recentChangeAt }))).toEqual(expected);
          }
        }
      }
    }
  });
});
