/**
 * Lua run on the server: what must be atomic, and what would otherwise take many commands. The
 * keys of one call share a slot (the store sends one call per slot group on a Cluster), so each
 * call runs on whichever node owns that slot.
 */

/**
 * Everything a decision reads, in one call. KEYS: the counters first, then the plain keys;
 * ARGV[1]: how many of them are counters. Returns, in order, each counter's value and PTTL
 * (false and 0 when it does not exist) and each plain key's value (false when missing).
 */
export const READ_LUA = `
local counters = tonumber(ARGV[1])
local out = {}
local n = 0
for i = 1, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if i <= counters then
    out[n + 1] = value
    out[n + 2] = value and redis.call('PTTL', KEYS[i]) or 0
    n = n + 2
  else
    out[n + 1] = value
    n = n + 1
  end
end
return out
`;

/**
 * rate-limiter-flexible's upsert for every counter of a call. KEYS: counters; ARGV: the points
 * and window (ms) of each, in order. Returns each counter's consumed points and PTTL after it.
 *
 * Points >= 0 do what the library's own Redis script does: create the counter at 0 with its
 * window when absent (never refreshing the window of an existing one), add, and give a counter
 * found without a TTL one. Negative points take back, never below zero and never creating a
 * counter: taking back what was never counted must not mint state.
 */
export const UPSERT_LUA = `
local out = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local points = tonumber(ARGV[2 * i - 1])
  local windowMs = ARGV[2 * i]
  if points >= 0 then
    redis.call('SET', key, 0, 'PX', windowMs, 'NX')
    out[2 * i - 1] = redis.call('INCRBY', key, points)
    local ttl = redis.call('PTTL', key)
    if ttl == -1 then
      redis.call('PEXPIRE', key, windowMs)
      ttl = tonumber(windowMs)
    end
    out[2 * i] = ttl
  else
    local current = tonumber(redis.call('GET', key))
    if not current or current <= 0 then
      out[2 * i - 1] = 0
      out[2 * i] = 0
    else
      out[2 * i - 1] = redis.call('DECRBY', key, math.min(-points, current))
      out[2 * i] = redis.call('PTTL', key)
    end
  end
end
return out
`;

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
