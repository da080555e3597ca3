import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExchange, type Seed, writeSeed } from '../../bench/lib/exchange.js';
import { percentile, type Reply, shape, Target } from '../../bench/lib/http.js';
import { buildPopulation, type Population } from '../../bench/lib/population.js';
import { Rng } from '../../bench/lib/rng.js';
import { runPlan } from '../../bench/lib/run-scenario.js';
import { buildPlan, type PlanSizes } from '../../bench/lib/scenarios.js';

/**
 * Smoke test of the attack benchmark's harness (not of the shield's goals, which only the
 * benchmark measures): a tiny stuffing run over real HTTP against two fresh example servers.
 * Checks that the counting works — an unprotected login hands every valid pair a token and
 * tells it apart — and that the run covers its whole budget.
 */
const SIZES: PlanSizes = {
  attempts: { stuffing: 30, 'low-and-slow': 30, spraying: 30 },
  passwordsPerAddress: [[2, 1]],
  proxyIps: 60,
  accountsPerSprayIp: 8,
  hotPrefixes: 2,
  legitUsers: 4,
  legitLeakedShare: 0.5,
  stuffingConcurrency: 4,
  lowAndSlowConcurrency: 2,
  sprayingConcurrency: 4,
};

describe('bench harness', () => {
  let population: Population;
  let seed: Seed;

  beforeAll(async () => {
    population = buildPopulation(new Rng(42), { users: 12, leakedShare: 0.5, leakListSize: 40, reusers: 2, sprayReusers: 1 });
    seed = await writeSeed(population);
  });
  afterAll(async () => {
    await seed?.remove();
  });

  it('builds the same traffic from the same seed', () => {
    const a = buildPlan('stuffing', new Rng(7), population, SIZES);
    const b = buildPlan('stuffing', new Rng(7), population, SIZES);
    expect(a.attempts).toEqual(b.attempts);
    expect(a.attempts).toHaveLength(30);
    expect(a.attempts.filter((x) => x.correct)).toHaveLength(2);
    expect(new Set(a.flows.map((f) => f.user.email)).size).toBe(4);
  });

  it('counts takeovers and validity leaks from HTTP answers only', async () => {
    const plan = buildPlan('stuffing', new Rng(7), population, SIZES);
    for (const protection of ['none', 'shield'] as const) {
      const server = await startExchange(protection, seed);
      const target = new Target(server.port, 8);
      try {
        const result = await runPlan(target, plan, 30_000);
        expect(result.truncated).toBe(false);
        expect(result.attack.sent).toBe(plan.attempts.length);
        expect(result.attack.correctPairs).toBe(2);
        expect(result.legit.enrolmentFailed).toBe(0);
        expect(result.legit.afterAttack.logins).toBe(plan.enrolled.length);
        expect(result.legit.logins).toBe(plan.flows.length + plan.enrolled.length);
        expect(result.requests).toBeGreaterThan(plan.attempts.length);
        expect(result.p99ms).toBeGreaterThanOrEqual(result.p50ms);
        if (protection === 'none') {
          expect(result.takeovers).toBe(2);
          expect(result.validityLeaks).toBe(2);
          expect(result.attack.rejected).toBe(28);
        } else {
          const answered = result.attack.blocked + result.attack.challenged + result.attack.rejected + result.attack.other + result.takeovers;
          expect(answered).toBe(plan.attempts.length);
        }
      } finally {
        target.close();
        await server.stop();
      }
    }
  }, 60_000);

  it('tells answer shapes apart the way a checker tool would', () => {
    const reply = (status: number, body: Record<string, unknown>, cookie?: string): Reply => ({ status, body, deviceCookie: cookie, ms: 1 });
    expect(shape(reply(401, { error: 'step_up_required', challenge: 'a', expiresIn: 300 }))).toBe(
      shape(reply(401, { error: 'step_up_required', challenge: 'b', expiresIn: 300 })),
    );
    expect(shape(reply(200, { token: 't' }, 'as_dev=x'))).not.toBe(shape(reply(401, { error: 'invalid_credentials' })));
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 99)).toBe(5);
  });
});
