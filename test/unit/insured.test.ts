import { describe, expect, it } from 'vitest';
import { Insured } from '../../src/stores/insured.js';
import { MemoryStore } from '../../src/stores/memory.js';

class SwitchableStore extends MemoryStore {
  down = false;
  calls = 0;
  override async set(key: string, value: string, ttlMs: number) {
    this.calls++;
    if (this.down) throw new Error('primary down');
    return super.set(key, value, ttlMs);
  }
}

describe('insured store (login fail-open)', () => {
  it('falls back to the insurance store, trips a breaker, and recovers after the probe interval', async () => {
    let now = 0;
    const primary = new SwitchableStore();
    const insurance = new MemoryStore();
    const events: string[] = [];
    const insured = new Insured(primary, insurance, {
      probeAfterMs: 1000,
      now: () => now,
      onFailure: () => events.push('down'),
      onRecovery: () => events.push('up'),
    });
    expect((await insured.run((s) => s.set('a', '1', 60_000))).degraded).toBe(false);

    primary.down = true;
    const first = await insured.run((s) => s.set('b', '1', 60_000));
    expect(first.degraded).toBe(true);
    expect(insured.degraded).toBe(true);
    // While the breaker is open the primary is not even tried (a paused Redis costs one timeout).
    const callsBefore = primary.calls;
    await insured.run((s) => s.set('c', '1', 60_000));
    expect(primary.calls).toBe(callsBefore);
    expect((await insurance.read({ counters: [], keys: ['b', 'c'] })).values).toEqual(['1', '1']);

    primary.down = false;
    now += 1001;
    const back = await insured.run((s) => s.set('d', '1', 60_000));
    expect(back.degraded).toBe(false);
    expect(insured.degraded).toBe(false);
    expect(events).toEqual(['down', 'up']);
    await primary.close();
    await insurance.close();
  });
});
