import { describe, expect, it } from 'vitest';
import { createShield, MemoryStore } from '../../src/index.js';
import { KEY_ID_KEY, keyIdOf, recordedKeyId } from '../../src/identity/key-id.js';

const SECRET = 'key-id-test-secret-0123456789abcdefgh';
const OTHER = 'key-id-test-other-secret-0123456789abc';

function quietLogger() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (m: string) => void warnings.push(m), error: (m: string) => void warnings.push(m) } };
}

describe('key id in the store', () => {
  it('is recorded by a starting shield: a short HMAC, never the secret', async () => {
    const store = new MemoryStore();
    const shield = createShield({ secret: SECRET, store });
    await shield.ready;
    const recorded = await recordedKeyId(store);
    expect(recorded).toMatch(/^[0-9a-f]{16}$/);
    expect(recorded).toBe(keyIdOf(SECRET));
    expect(keyIdOf(OTHER)).not.toBe(recorded);
    expect(SECRET).not.toContain(recorded);
    await shield.close();
    await store.close();
  });

  it('warns when the store was last used under another secret, then records its own', async () => {
    const store = new MemoryStore();
    const first = createShield({ secret: SECRET, store });
    await first.ready;
    const { warnings, logger } = quietLogger();
    const second = createShield({ secret: OTHER, store, logger });
    await second.ready;
    expect(warnings).toEqual([expect.stringMatching(/last used by a shield with another secret .*every instance must run with the same secret/)]);
    expect(warnings.join('')).not.toContain(SECRET);
    expect(await recordedKeyId(store)).toBe(keyIdOf(OTHER));
    await first.close();
    await second.close();
    await store.close();
  });

  it('does not stop a shield whose store cannot be written at start-up', async () => {
    const store = new MemoryStore();
    store.set = () => Promise.reject(new Error('store down'));
    const { warnings, logger } = quietLogger();
    const shield = createShield({ secret: SECRET, store, logger });
    await expect(shield.ready).resolves.toBeUndefined();
    expect(warnings).toEqual([expect.stringMatching(/could not record the key id .*store down/)]);
    expect(await store.read({ counters: [], keys: [KEY_ID_KEY] })).toEqual({ counters: [], values: [undefined] });
    await shield.close();
    await store.close();
  });
});
