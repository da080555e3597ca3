import express from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { createShield, ShieldConfigError } from '../../src/index.js';

const secret = 'a'.repeat(40);

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ShieldConfigError);
    const e = error as ShieldConfigError;
    // Every configuration error says how to fix it.
    expect(e.fix.length).toBeGreaterThan(10);
    expect(e.message).toContain('Fix:');
    return e.code;
  }
  return undefined;
}

describe('createShield configuration errors', () => {
  const env = process.env.NODE_ENV;
  afterEach(() => {
    process.env.NODE_ENV = env;
  });

  it('accepts a valid configuration', () => {
    expect(codeOf(() => createShield({ secret, thresholds: { challenge: 40, block: 90 } }))).toBeUndefined();
  });

  it('rejects an unknown top-level option and names it', () => {
    expect(codeOf(() => createShield({ secret, treshold: 3 } as never))).toBe('UNKNOWN_OPTION');
    expect(() => createShield({ secret, treshold: 3 } as never)).toThrow(/options\.treshold/);
  });

  it('rejects an unknown nested option', () => {
    expect(codeOf(() => createShield({ secret, velocity: { ip: { limt: 3 } } } as never))).toBe('UNKNOWN_OPTION');
  });

  it('rejects wrong types', () => {
    expect(codeOf(() => createShield({ secret, monitor: 'yes' } as never))).toBe('INVALID_TYPE');
    expect(codeOf(() => createShield({ secret, velocity: { ip: { limit: -1 } } }))).toBe('INVALID_TYPE');
    expect(codeOf(() => createShield({ secret, challenge: { ttlSec: 1.5 } }))).toBe('INVALID_TYPE');
    expect(codeOf(() => createShield({ secret: 42 } as never))).toBe('INVALID_TYPE');
    expect(codeOf(() => createShield('x' as never))).toBe('INVALID_TYPE');
    expect(codeOf(() => createShield({ secret, onDecision: 'log' } as never))).toBe('INVALID_TYPE');
  });

  it('rejects impossible values', () => {
    expect(codeOf(() => createShield({ secret, thresholds: { challenge: 100, block: 50 } }))).toBe('INVALID_VALUE');
    expect(codeOf(() => createShield({ secret, password: { minScore: 7 as never } }))).toBe('INVALID_VALUE');
    expect(codeOf(() => createShield({ secret, device: { secure: 'sometimes' as never } }))).toBe('INVALID_VALUE');
  });

  it('requires a secret in production and accepts a missing one in development with a warning', () => {
    process.env.NODE_ENV = 'production';
    expect(codeOf(() => createShield({}))).toBe('MISSING_SECRET');
    process.env.NODE_ENV = 'development';
    const warnings: string[] = [];
    const shield = createShield({ logger: { warn: (m) => warnings.push(m), error: () => {} } });
    expect(warnings.join()).toMatch(/random/);
    void shield.close();
  });

  it('rejects a short secret', () => {
    expect(codeOf(() => createShield({ secret: 'short' }))).toBe('WEAK_SECRET');
  });

  it("refuses Express 'trust proxy' = true at start-up", () => {
    const app = express();
    app.set('trust proxy', true);
    expect(codeOf(() => createShield({ secret, app }))).toBe('TRUST_PROXY_TRUE');
    app.set('trust proxy', 'loopback');
    expect(codeOf(() => createShield({ secret, app }))).toBeUndefined();
  });

  it('checks per-route thresholds when the route is mounted', () => {
    const shield = createShield({ secret });
    expect(codeOf(() => shield.login({ authenticate: () => null, thresholds: { challenge: 90, block: 80 } }))).toBe('INVALID_VALUE');
    const change = { getUser: () => undefined, verifySecondFactor: () => false, thresholds: { challenge: 120 } };
    expect(codeOf(() => shield.credentialChange('password', change))).toBe('INVALID_VALUE');
  });

  it('requires the app callbacks on each route', () => {
    const shield = createShield({ secret });
    expect(codeOf(() => shield.login({} as never))).toBe('MISSING_CALLBACK');
    expect(codeOf(() => shield.stepUp({} as never))).toBe('MISSING_CALLBACK');
    expect(codeOf(() => shield.withdrawals(undefined as never))).toBe('MISSING_CALLBACK');
  });

  it('refuses a misspelt or mistyped route option when the route is mounted', () => {
    const shield = createShield({ secret });
    const misspelt = { authenticate: () => null, tresholds: { challenge: 10 } } as never;
    expect(codeOf(() => shield.login(misspelt))).toBe('UNKNOWN_OPTION');
    expect(codeOf(() => shield.login({ authenticate: () => null, monitor: 'yes' } as never))).toBe('INVALID_TYPE');
    expect(codeOf(() => shield.stepUp({ verifySecondFactor: () => true, fields: { cod: 'otp' } } as never))).toBe('UNKNOWN_OPTION');
    const change = { getUser: () => undefined, verifySecondFactor: () => false, lockWithdrawals: 'always' } as never;
    expect(codeOf(() => shield.credentialChange('password', change))).toBe('INVALID_TYPE');
    expect(codeOf(() => shield.withdrawals({ getUser: () => undefined, nmae: 'w' } as never))).toBe('UNKNOWN_OPTION');
    try {
      shield.login(misspelt);
    } catch (error) {
      expect((error as Error).message).toContain('tresholds');
      expect((error as { fix: string }).fix).toContain('thresholds');
    }
  });
});
