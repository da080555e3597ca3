import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/index.js';
import { loginApp } from '../support/login-app.js';
import { useCleanup } from '../support/cleanup.js';

/**
 * A challenge's record carries its user id sealed (AES-256-GCM). Sealing costs a few µs, so a
 * challenge without a user (a wrong password, an address with no account) seals too: otherwise
 * every step-up answer would time a right password apart from a wrong one.
 */
const users = { 'alice@example.com': { id: 'user-alice-7f3a9c', password: 'Tr0ub4dor&3-horse', code: '424242' } };
const current = useCleanup();

/** A memory store that keeps what was written under challenge keys. */
class RecordingStore extends MemoryStore {
  readonly challenges = new Map<string, string>();
  override async set(key: string, value: string, ttlMs: number): Promise<void> {
    if (key.startsWith('chal:')) this.challenges.set(key, value);
    return super.set(key, value, ttlMs);
  }
}

function setup() {
  const store = new RecordingStore();
  const t = loginApp({ posture: 'strict', store }, users);
  current.shield = t.shield;
  const challenge = async (email: string, password: string) => {
    const before = new Set(store.challenges.keys());
    const res = await request(t.app).post('/login').set('X-Forwarded-For', '198.51.100.7').send({ email, password });
    expect(res.body.error).toBe('step_up_required');
    const key = [...store.challenges.keys()].find((k) => !before.has(k));
    if (key === undefined) throw new Error('no challenge record was written');
    return { token: res.body.challenge as string, key, record: JSON.parse(store.challenges.get(key) as string) as { u: unknown } };
  };
  const verify = (token: string, code: string) => request(t.app).post('/login/verify').set('X-Forwarded-For', '198.51.100.7').send({ challenge: token, code });
  return { store, challenge, verify };
}

describe('challenge records', () => {
  it('seal a user id whether or not the challenge has a user, and never hold it in the clear', async () => {
    const { challenge } = setup();
    const right = await challenge('alice@example.com', users['alice@example.com'].password);
    const wrong = await challenge('alice@example.com', 'not-her-password');
    const nobody = await challenge('nobody@example.com', 'whatever-1');
    for (const { record } of [right, wrong, nobody]) {
      expect(typeof record.u).toBe('string');
      expect(String(record.u)).not.toContain('alice');
    }
    // Same length apart from the id's own bytes: only the user's id differs, not the work.
    expect(String(right.record.u).length).toBeGreaterThan(String(wrong.record.u).length);
    expect(String(wrong.record.u).length).toBe(String(nobody.record.u).length);
  });

  it('open as no user when they hold none: the right code then passes nobody', async () => {
    const { challenge, verify } = setup();
    const wrong = await challenge('alice@example.com', 'not-her-password');
    // Without lookupAccount a wrong password's challenge has no user: no code passes it.
    expect((await verify(wrong.token, '424242')).body).toEqual({ error: 'invalid_code' });
    const nobody = await challenge('nobody@example.com', 'whatever-1');
    expect((await verify(nobody.token, '424242')).body).toEqual({ error: 'invalid_code' });
    const right = await challenge('alice@example.com', users['alice@example.com'].password);
    const passed = await verify(right.token, '424242');
    expect(passed.status).toBe(200);
    expect(passed.body).toEqual({ token: 't-user-alice-7f3a9c' });
  });

  it('written by an older version with no user (null) still open as no user', async () => {
    const { store, challenge, verify } = setup();
    const right = await challenge('alice@example.com', users['alice@example.com'].password);
    // As an older version stored a challenge without a user: the same record with u null.
    await store.set(right.key, JSON.stringify({ ...right.record, u: null }), 60_000);
    expect((await verify(right.token, '424242')).body).toEqual({ error: 'invalid_code' });
  });
});
