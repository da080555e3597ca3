import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedisStoreFromUrl, keySlot, RedisStore } from '../../src/stores/redis.js';
import { type RedisCluster, startRedisCluster } from '../support/redis.js';
import { redisCall } from '../support/resp.js';
import { describeStoreContract, uid } from './store-contract.js';

let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await startRedisCluster();
});

afterAll(async () => {
  await cluster?.stop();
});

describeStoreContract('RedisStore (3-node Cluster)', () => new RedisStore({ url: cluster.urls, commandTimeoutMs: 2000 }));

describe('RedisStore on a Cluster', () => {
  it('is named redis-cluster when built from a comma-separated seed list', async () => {
    const store = createRedisStoreFromUrl(cluster.url, { commandTimeoutMs: 2000 });
    try {
      expect(store.name).toBe('redis-cluster');
      await store.set(uid(), 'x', 1000);
    } finally {
      await store.close();
    }
  });

  it('computes the same hash slots as the server', async () => {
    const port = cluster.nodes[0]!.port;
    const keys = ['', 'a', 'as:v1:rl:fail_ip:abc', 'as:v1:dev:{acct}:d', '{acct}', 'x{}y', 'x{{a}}', '{a}{b}', 'ünï{cödé}'];
    for (let i = 0; i < 50; i++) keys.push(`as:v1:rl:f:{${uid()}}:${uid()}`, uid());
    for (const key of keys) expect(keySlot(key), key).toBe(await redisCall(port, 'CLUSTER', 'KEYSLOT', key));
  });

  it("keeps one account's keys in one slot, and spreads other keys over the nodes", async () => {
    const store = new RedisStore({ url: cluster.urls, commandTimeoutMs: 2000 });
    try {
      const account = uid();
      const spec = { name: 'fail_ipacct', points: 5, durationSec: 60 };
      await store.add([{ spec, key: `{${account}}:${uid()}`, points: 1 }]);
      await store.set(`dev:{${account}}:d1`, '1', 60_000);
      await store.extendLock(`lock:{${account}}`, { kind: 'x', at: Date.now(), until: Date.now() + 60_000 }, Date.now(), 5);
      const slot = keySlot(`{${account}}`);
      let found = 0;
      for (const node of cluster.nodes) {
        const keys = (await redisCall(node.port, 'KEYS', `*${account}*`)) as string[];
        for (const key of keys) expect(keySlot(key)).toBe(slot);
        found += keys.length;
      }
      expect(found).toBe(3);

      const spread = Array.from({ length: 30 }, () => uid());
      await store.add(spread.map((key) => ({ spec, key, points: 1 })));
      const holding = await Promise.all(
        cluster.nodes.map(async (node) => ((await redisCall(node.port, 'DBSIZE')) as number) > 0),
      );
      expect(holding.filter(Boolean).length).toBe(3);
      const read = await store.read({ counters: spread.map((key) => ({ spec, key })), keys: [] });
      expect(read.counters.every((c) => c.consumed === 1)).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore when a slot moves behind the client', () => {
  it('a call the old owner answers with MOVED is sent again on its own, and the whole read still succeeds', async () => {
    const store = new RedisStore({ url: cluster.urls, commandTimeoutMs: 2000 });
    try {
      await store.read({ counters: [], keys: [uid()] }); // connected, slot map loaded
      const owners = await slotOwners(cluster.nodes[0]!.port);
      // An empty slot to move (no keys to migrate), and a key staying on the same node, so that
      // the read sends that node a pipeline of two calls and only one of them is redirected.
      const moving = await keyWhere(async (slot) => (await redisCall(owners(slot).port, 'CLUSTER', 'COUNTKEYSINSLOT', slot)) === 0);
      const from = owners(keySlot(`as:v1:${moving}`));
      const staying = await keyWhere(async (slot) => owners(slot).id === from.id && slot !== keySlot(`as:v1:${moving}`));
      await store.set(staying, 'stays', 60_000);
      const to = cluster.nodes.find((node) => node.port !== from.port)!;
      const toId = String(await redisCall(to.port, 'CLUSTER', 'MYID'));
      for (const node of cluster.nodes) await redisCall(node.port, 'CLUSTER', 'SETSLOT', keySlot(`as:v1:${moving}`), 'NODE', toId);

      expect((await store.read({ counters: [], keys: [moving, staying] })).values).toEqual([undefined, 'stays']);
      await store.set(moving, 'moved', 60_000);
      expect((await store.read({ counters: [], keys: [moving, staying] })).values).toEqual(['moved', 'stays']);
      expect(await redisCall(to.port, 'EXISTS', `as:v1:${moving}`)).toBe(1);
    } finally {
      await store.close();
    }
  });
});

/** Who serves each slot, from CLUSTER SLOTS. */
async function slotOwners(port: number): Promise<(slot: number) => { port: number; id: string }> {
  const ranges = (await redisCall(port, 'CLUSTER', 'SLOTS')) as [number, number, [string, number, string]][];
  return (slot) => {
    const range = ranges.find(([start, end]) => slot >= start && slot <= end);
    if (!range) throw new Error(`slot ${slot} is not served`);
    return { port: range[2][1], id: range[2][2] };
  };
}

async function keyWhere(accept: (slot: number) => Promise<boolean>): Promise<string> {
  for (;;) {
    const key = uid();
    if (await accept(keySlot(`as:v1:${key}`))) return key;
  }
}
