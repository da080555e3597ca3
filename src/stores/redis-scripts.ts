/**
 * Lua for the operations that must be atomic on the server. Each script touches one key, so it
 * runs on whichever Cluster node owns that key's slot.
 */

/**
 * KEYS[1] counter; ARGV[1] ttl ms. The TTL is set when the counter is created and never
 * refreshed, so a window cannot be kept open by hammering it. A counter found without a TTL
 * (written by something else) gets one, so nothing lives forever.
 */
export const INCREMENT_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`;

/**
 * KEYS[1] counter; ARGV[1] points to take back (> 0). Taking points back never creates a
 * counter nor drives one below zero. Returns { consumed, pttl }.
 */
export const REFUND_LUA = `
local v = tonumber(redis.call('GET', KEYS[1]))
if not v or v <= 0 then return {0, 0} end
local n = redis.call('DECRBY', KEYS[1], math.min(tonumber(ARGV[1]), v))
return {n, redis.call('PTTL', KEYS[1])}
`;

/**
 * KEYS[1] lock; ARGV[1] reason JSON; ARGV[2] caller's clock (epoch ms); ARGV[3] max reasons.
 * Returns the stored record as JSON.
 *
 * A stored lock whose `until` has passed (by the caller's clock, as in `getLock`) is replaced,
 * not extended. A stored value that is not a lock is an error rather than silently overwritten:
 * it may have been a longer lock, and withdrawal locks fail closed.
 *
 * The key expires at the later of `until` on the Redis clock and `until - now` from now, so a
 * Redis clock running ahead of the application's cannot end a lock early (getLock still judges
 * expiry by the caller's clock).
 */
export const EXTEND_LOCK_LUA = `
local now = tonumber(ARGV[2])
local maxReasons = tonumber(ARGV[3])
local reason = cjson.decode(ARGV[1])
local untilMs = tonumber(reason['until'])
local reasons = {}
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, current = pcall(cjson.decode, raw)
  if not ok or type(current) ~= 'table' or type(current['until']) ~= 'number' or type(current['reasons']) ~= 'table' then
    return redis.error_reply('ASHIELD_CORRUPT_LOCK stored lock is not valid JSON')
  end
  if current['until'] > now then
    if current['until'] > untilMs then untilMs = current['until'] end
    reasons = current['reasons']
  end
end
table.insert(reasons, reason)
while #reasons > maxReasons do table.remove(reasons, 1) end
local record = cjson.encode({ ['until'] = untilMs, reasons = reasons })
local t = redis.call('TIME')
local serverNow = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local expireAt = math.ceil(math.max(untilMs, serverNow + (untilMs - now)))
if expireAt <= serverNow then
  redis.call('DEL', KEYS[1])
else
  redis.call('SET', KEYS[1], record, 'PXAT', string.format('%d', expireAt))
end
return record
`;
