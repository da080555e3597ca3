import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { subnetOf } from '../../src/identity/client-context.js';
import { deviceSignal } from '../../src/signals/device.js';
import { leakedAddressSignal } from '../../src/signals/leaked-address.js';
import { addressInputs, boundedPrefix, L33T_CHARS, passwordStrength } from '../../src/signals/password-strength.js';
import { passwordQualitySignal } from '../../src/signals/password-quality.js';
import { recentChangeSignal } from '../../src/signals/recent-change.js';
import type { SignalInput } from '../../src/signals/signal.js';
import { type CounterValues, retryAfterMs, velocitySignal } from '../../src/signals/velocity.js';
import { BASELINE_WARMUP_BUCKETS, isWave, nextBaseline, waveSignal } from '../../src/signals/wave.js';

const config = resolveConfig({ secret: 'k'.repeat(40) });

function input(overrides: Partial<SignalInput> = {}): SignalInput {
  return {
    config,
    counters: new Map(),
    route: 'login',
    deviceKnown: undefined,
    leakedAddress: false,
    passwordFlags: undefined,
    waveActive: false,
    recentChangeAt: undefined,
    ...overrides,
  };
}

const counters = (entries: Record<string, number>): CounterValues =>
  new Map(Object.entries(entries).map(([k, consumed]) => [k, { consumed, msBeforeNext: 120_000 }])) as CounterValues;

describe('leaked-address signal', () => {
  it('adds points only for leaked addresses', () => {
    expect(leakedAddressSignal(input({ leakedAddress: true }))).toEqual([
      expect.objectContaining({ signal: 'leaked-address', points: config.points.leakedAddress }),
    ]);
    expect(leakedAddressSignal(input())).toEqual([]);
  });
});

describe('device signal', () => {
  it('lowers risk for a known device and raises it otherwise', () => {
    expect(deviceSignal(input({ deviceKnown: true }))[0]).toMatchObject({ signal: 'device.known', points: -30 });
    expect(deviceSignal(input({ deviceKnown: false }))[0]).toMatchObject({ signal: 'device.new', points: 25 });
    expect(deviceSignal(input({ deviceKnown: undefined }))[0]).toMatchObject({ signal: 'device.new' });
  });
});

describe('velocity signal', () => {
  it('is silent below half of every limit', () => {
    expect(velocitySignal(input({ counters: counters({ ip: 9, account: 4 }) }))).toEqual([]);
  });
  it('warns at half a limit and adds full points at the limit', () => {
    const half = velocitySignal(input({ counters: counters({ ip: 10 }) }));
    expect(half).toEqual([expect.objectContaining({ signal: 'velocity.ip', points: 50 })]);
    const full = velocitySignal(input({ counters: counters({ ip: 20 }) }));
    expect(full).toEqual([expect.objectContaining({ signal: 'velocity.ip', points: 100 })]);
    expect(full[0]?.detail).toContain('20 failed logins from this IP in 15 min (limit 20)');
  });
  it("states each shield's own limits and windows when several run in one process", () => {
    const other = resolveConfig({ secret: 'k'.repeat(40), velocity: { ip: { limit: 6, windowSec: 3600 } } });
    const at = (c: typeof config, consumed: number) => velocitySignal(input({ config: c, counters: counters({ ip: consumed }) }))[0]?.detail;
    // Interleaved, so a text made for one configuration cannot be served to the other.
    expect([at(config, 20), at(other, 6), at(config, 21), at(other, 7)]).toEqual([
      '20 failed logins from this IP in 15 min (limit 20)',
      '6 failed logins from this IP in 1 h (limit 6)',
      '21 failed logins from this IP in 15 min (limit 20)',
      '7 failed logins from this IP in 1 h (limit 6)',
    ]);
  });
  it('covers subnet, ip+account, distinct accounts per ip and account', () => {
    const reasons = velocitySignal(
      input({
        counters: counters({ subnet: 60, ipAccount: 5, accountsPerIp: 10, account: 10 }),
      }),
    );
    expect(reasons.map((r) => r.signal).sort()).toEqual([
      'velocity.account',
      'velocity.accountsPerIp',
      'velocity.ipAccount',
      'velocity.subnet',
    ]);
  });
  it('does not hold failures against the account against its known devices', () => {
    const attacked = counters({ account: 10 });
    expect(velocitySignal(input({ counters: attacked, deviceKnown: true }))).toEqual([]);
    expect(velocitySignal(input({ counters: attacked, deviceKnown: false }))).toHaveLength(1);
  });
  it("never lets a victim's account counter alone block (it caps at challenge)", () => {
    const reasons = velocitySignal(input({ counters: counters({ account: 1000 }) }));
    expect(reasons.reduce((s, r) => s + r.points, 0)).toBeLessThan(config.thresholds.block);
  });
  it('computes Retry-After from the exceeded window', () => {
    expect(retryAfterMs(counters({ ip: 20 }), config)).toBe(120_000);
    expect(retryAfterMs(new Map(), config)).toBe(60_000);
  });
});

describe('wave signal', () => {
  const reading = (evidence: number, baseline?: number, evidencePrevious = 0) => ({ evidence, evidencePrevious, baseline });
  it('needs enough evidence, and a surge over the learnt baseline', () => {
    expect(isWave(reading(29), config.wave)).toBe(false);
    expect(isWave(reading(30), config.wave)).toBe(true);
    expect(isWave(reading(200, 100), config.wave)).toBe(false);
    expect(isWave(reading(300, 100), config.wave)).toBe(true);
    expect(isWave(reading(0, 100, 300), config.wave)).toBe(true); // the previous, complete bucket
  });
  it('learns a baseline that warms up as a mean, then rises slowly and never learns a surge', () => {
    let b = nextBaseline(undefined, 40, config.wave);
    expect(b).toEqual({ perBucket: 40, buckets: 1 });
    b = nextBaseline(b, 60, config.wave);
    expect(b.perBucket).toBe(50);
    expect(nextBaseline(b, 500, config.wave)).toEqual(b); // a surge teaches nothing
    let warm = { perBucket: 100, buckets: BASELINE_WARMUP_BUCKETS };
    // An attacker ramping up just under the surge threshold, every minute for a day.
    for (let minute = 0; minute < 1440; minute++) warm = nextBaseline(warm, warm.perBucket * 2.9, config.wave);
    expect(warm.perBucket).toBeLessThan(100 * 5);
    expect(nextBaseline({ perBucket: 100, buckets: 100 }, 0, config.wave).perBucket).toBe(90);
  });
  it('raises risk only for devices that are not known', () => {
    expect(waveSignal(input({ waveActive: true, deviceKnown: false }))).toHaveLength(1);
    expect(waveSignal(input({ waveActive: true, deviceKnown: true }))).toHaveLength(0);
    expect(waveSignal(input({ waveActive: false }))).toHaveLength(0);
  });
});

describe('password quality and recent change signals', () => {
  it("flags breached and weak account passwords on the owner's device and on credential changes", () => {
    const flags = { score: 0, breached: true };
    const reasons = passwordQualitySignal(input({ passwordFlags: flags, deviceKnown: true }));
    expect(reasons.map((r) => r.signal)).toEqual(['password.breached', 'password.weak']);
    expect(passwordQualitySignal(input({ passwordFlags: flags, route: 'change' }))).toHaveLength(2);
    expect(passwordQualitySignal(input({ passwordFlags: { score: 4, breached: false }, deviceKnown: true }))).toEqual([]);
  });
  it("never scores account state on a stranger's login (it would tell registered addresses apart)", () => {
    expect(passwordQualitySignal(input({ passwordFlags: { score: 0, breached: true }, deviceKnown: false }))).toEqual([]);
    expect(recentChangeSignal(input({ recentChangeAt: 1, deviceKnown: false }))).toEqual([]);
  });
  it('raises risk on new devices changing credentials after a recent credential change', () => {
    expect(recentChangeSignal(input({ route: 'change', recentChangeAt: 1, deviceKnown: false }))).toHaveLength(1);
    expect(recentChangeSignal(input({ route: 'change', recentChangeAt: 1, deviceKnown: true }))).toHaveLength(0);
  });
});

describe('password strength (zxcvbn, bounded)', () => {
  it('scores common and strong passwords sensibly', () => {
    const opts = { maxLength: 20 };
    expect(passwordStrength('password123', [], opts).score).toBeLessThanOrEqual(1);
    expect(passwordStrength('vT7#qLw9!zRp2@xM', [], opts).score).toBe(4);
  });
  it('treats the address as known words', () => {
    const inputs = addressInputs('Satoshi.Nakamoto@example.com');
    expect(inputs).toEqual(expect.arrayContaining(['satoshi', 'nakamoto', 'example']));
    expect(passwordStrength('satoshinakamoto', inputs, { maxLength: 20 }).score).toBeLessThanOrEqual(1);
  });
  it('never hands zxcvbn more than the bound, whatever the attacker sends', () => {
    const crafted = [
      '4@8(6#1!0$5+7%2|{[<93'.repeat(500),
      'a'.repeat(10_000),
      '😀'.repeat(5_000),
      '\u0301'.repeat(5_000),
      '19901231'.repeat(1000),
    ];
    for (const pw of crafted) {
      const prefix = boundedPrefix(pw, { maxLength: 20 });
      expect(Array.from(prefix).length).toBeLessThanOrEqual(20);
      expect(new Set([...prefix].filter((c) => L33T_CHARS.has(c))).size).toBeLessThanOrEqual(4);
      const result = passwordStrength(pw, [], { maxLength: 20 });
      expect(result.truncated).toBe(true);
      expect(result.scoredLength).toBeLessThanOrEqual(40); // UTF-16 units of ≤ 20 code points
    }
  });
  it('does not split a surrogate pair at the bound', () => {
    const prefix = boundedPrefix('😀'.repeat(30), { maxLength: 3 });
    expect(prefix).toBe('😀😀😀');
    expect(prefix.isWellFormed()).toBe(true);
  });
  it('keeps a weak prefix weak: padding cannot launder a weak password', () => {
    expect(passwordStrength(`password${'x'.repeat(200)}`, [], { maxLength: 20 }).score).toBeLessThanOrEqual(2);
  });
});

describe('subnets', () => {
  it('groups IPv4 by /24 and IPv6 by /64', () => {
    expect(subnetOf(ipaddr.parse('203.0.113.77'))).toBe('203.0.113.0/24');
    expect(subnetOf(ipaddr.parse('2001:db8:1:2:aaaa::1'))).toBe('2001:db8:1:2::/64');
    expect(subnetOf(ipaddr.parse('2001:db8:1:2:ffff::9'))).toBe(subnetOf(ipaddr.parse('2001:db8:1:2::1')));
    expect(subnetOf(ipaddr.parse('2001:db8:1:3::1'))).not.toBe(subnetOf(ipaddr.parse('2001:db8:1:2::1')));
  });
});
