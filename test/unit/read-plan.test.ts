import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { KEY, ReadPlanner } from '../../src/engine/read-plan.js';
import { counterSpecs, refList, velocityRefs } from '../../src/signals/velocity.js';
import { storeKeys } from '../../src/stores/key-layout.js';

const specs = counterSpecs(resolveConfig({ secret: 'read-plan-test-secret-0123456789abcdef' }));

describe('ReadPlanner: memoised parts, the same read as the uncached refs', () => {
  it('reads exactly the counters velocityRefs names, in refList order, for fresh and repeated ids alike', () => {
    const planner = new ReadPlanner(specs);
    const cases = [
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1' },
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1', device: 'dev-1' },
      { account: 'acct-b', ip: 'ip-1', subnet: 'net-1' },
      { account: 'acct-a', ip: 'ip-2', subnet: 'net-2', site: 'site-2' },
      { account: 'acct-a', ip: 'ip-1', subnet: 'net-1', device: 'dev-1' },
    ];
    for (const bucket of [100, 100, 101]) {
      for (const ids of cases) {
        const plan = planner.plan(ids, bucket, []);
        const expected = refList(velocityRefs(specs, ids, bucket));
        expect(plan.refs).toEqual(velocityRefs(specs, ids, bucket));
        expect(plan.names).toEqual(expected.names);
        expect(plan.request.counters).toEqual(expected.list);
      }
    }
  });

  it('names the plain keys by position, device keys only with a device, and the route’s own counters last', () => {
    const planner = new ReadPlanner(specs);
    const own = { spec: { name: 'own', points: 3, durationSec: 60 }, key: 'k' };
    const plan = planner.plan({ account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' }, 7, [own]);
    const keys = plan.request.keys;
    expect(keys[KEY.flags]).toBe(storeKeys.passwordFlags('acct'));
    expect(keys[KEY.wave]).toBe(storeKeys.waveFlag());
    expect(keys[KEY.recentChange]).toBe(storeKeys.recentChange('acct'));
    expect(keys[KEY.baseline]).toBe(storeKeys.waveBaseline());
    expect(keys[KEY.knownDevice]).toBe(storeKeys.knownDevice('acct', 'dev'));
    expect(keys[KEY.secondFactorPass]).toBe(storeKeys.secondFactorPass('acct', 'dev'));
    expect(plan.request.counters.at(-1)).toBe(own);
    expect(plan.request.counters).toHaveLength(plan.names.length + 1);
    expect(planner.plan({ account: 'acct', ip: 'ip', subnet: 'net' }, 7, []).request.keys).toHaveLength(4);
  });

  it('keeps a returning device’s whole plan, frozen, only while its account, address and bucket match', () => {
    const planner = new ReadPlanner(specs);
    const ids = { account: 'acct', ip: 'ip', subnet: 'net', device: 'dev' };
    const first = planner.plan(ids, 7, []);
    expect(planner.plan({ ...ids }, 7, [])).toBe(first);
    expect(Object.isFrozen(first.request.counters) && Object.isFrozen(first.request.keys)).toBe(true);
    for (const changed of [{ ...ids, account: 'other' }, { ...ids, ip: 'ip-2', subnet: 'net-2' }]) {
      const plan = planner.plan(changed, 7, []);
      expect(plan).not.toBe(first);
      expect(plan.request.counters).toEqual(refList(velocityRefs(specs, changed, 7)).list);
    }
    const nextBucket = planner.plan(ids, 8, []);
    expect(nextBucket.refs.evidence.key).toBe('all:8');
    // A route's own counters are never folded into a kept plan.
    const own = { spec: { name: 'own', points: 3, durationSec: 60 }, key: 'k' };
    expect(planner.plan(ids, 8, [own]).request.counters.at(-1)).toBe(own);
    expect(planner.plan(ids, 8, []).request.counters).not.toContain(own);
  });
});
