import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.js';
import { ShieldEngine } from '../../src/engine/engine.js';
import { Locks } from '../../src/locks/locks.js';
import { MemoryStore } from '../../src/stores/memory.js';

/**
 * Pre-change holds, on their own: each change holds withdrawals for its full lock duration
 * under its own name, and settles only that name. A refused change can never lift another
 * change's hold, nor shorten a lock.
 */

const HOUR = 3_600_000;
let store: MemoryStore | undefined;
afterEach(async () => store?.close());

function setup() {
  const clock = { now: Date.parse('2026-11-23T12:00:00Z') };
  store = new MemoryStore({ now: () => clock.now });
  const config = resolveConfig({ secret: 'h'.repeat(40), now: () => clock.now });
  const locks = new Locks(new ShieldEngine(config, store, undefined), config.locks);
  return { locks, clock, store };
}

describe('pre-change holds', () => {
  it("hold for the change's full duration (risky-aware), plus the margin for the app's handler", async () => {
    const { locks, clock } = setup();
    const plain = locks.pending('u1', 'email', false);
    const risky = locks.pending('u2', 'email', true);
    await locks.hold(plain);
    await locks.hold(risky);
    expect((await locks.read('u1'))?.until).toBe(clock.now + 6 * HOUR + 10 * 60_000);
    expect((await locks.read('u2'))?.until).toBe(clock.now + 24 * HOUR + 10 * 60_000);
    expect((await locks.read('u1'))?.reasons).toEqual([expect.objectContaining({ kind: 'email', detail: 'email change pending' })]);
  });

  it("settling one of two concurrent holds leaves the other's in force", async () => {
    const { locks, clock } = setup();
    const password = locks.pending('u1', 'password', false);
    clock.now += 1000;
    const email = locks.pending('u1', 'email', false);
    await locks.hold(password);
    await locks.hold(email);
    await locks.settle(password);
    expect((await locks.read('u1'))?.until).toBe(email.until);
    await locks.settle(email);
    expect(await locks.read('u1')).toBeUndefined();
  });

  it('a settled hold never shortens a lock recorded meanwhile', async () => {
    const { locks, clock } = setup();
    const change = locks.pending('u1', 'password', false);
    await locks.hold(change);
    const record = await locks.applyChange('u1', 'password', false);
    await locks.settle(change);
    expect((await locks.read('u1'))?.until).toBe(record.until);
    expect(record.until).toBe(clock.now + 24 * HOUR);
  });

  it('a hold record full of reasons counts whole: a hold it may have dropped is not lost', async () => {
    const { locks } = setup();
    const first = locks.pending('u1', 'password', false);
    await locks.hold(first);
    // 32 refused email changes (hold + settlement each) push the first hold off the record.
    for (let i = 0; i < 32; i++) {
      const refused = locks.pending('u1', 'email', false);
      await locks.hold(refused);
      await locks.settle(refused);
    }
    expect((await locks.read('u1'))?.until).toBe(first.until);
  });

  it('an operator unlock lifts holds too', async () => {
    const { locks } = setup();
    await locks.hold(locks.pending('u1', 'password', false));
    await locks.lock('u1', { hours: 2, reason: 'ticket', actor: 'ops' });
    await locks.unlock('u1', { reason: 'owner verified', actor: 'ops' });
    expect(await locks.read('u1')).toBeUndefined();
  });
});
