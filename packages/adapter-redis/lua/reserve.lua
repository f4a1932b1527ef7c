--[[ reserve: leases up to `max` ready jobs of one queue, after upkeep.
  KEYS[1] ready, KEYS[2] scheduled, KEYS[3] retrying (zsets, see enqueue.lua and settle.lua)
  KEYS[4] active     zset  id -> lease deadline ms
  KEYS[5] seq        string, arrival counter
  ARGV[1] job key prefix, ARGV[2] max, ARGV[3] lease ms, ARGV[4] lease token, ARGV[5] worker id
  ARGV[6] status channel ("" for none), ARGV[7] queue name
  Returns { next, id1, body1, deliveries1, id2, ... }: `next` is -1 when jobs were leased,
  else the ms until the next scheduled job, retry or lease deadline (-2 when there is none),
  so a waiting reserve knows when to look again.

  Upkeep first, bounded so one call stays short: scheduled and retrying jobs that are due
  move to `ready`; jobs whose lease ran out (their worker died) go back to `ready` at their
  old place, uncounted (`exe` - 1), as a release does. Then ZPOPMIN takes the lowest scores:
  lower priority first, then arrival. Every job of one call shares the lease token.

  Every state change is published on the status channel (when given), one message per
  state: scheduled jobs that became due ('queued'), jobs back from an expired lease
  ('queued' or 'retrying'), and the jobs leased ('running').
]]
local prefix, max, lease_ms, token, worker = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local BOUND = 1000

local function to_ready(id, key)
  local seq = redis.call('INCR', KEYS[5])
  local priority = tonumber(redis.call('HGET', key, 'priority') or '0')
  local score = (priority + 1048576) * 4294967296 + (seq % 4294967296)
  redis.call('ZADD', KEYS[1], score, id)
  redis.call('HSET', key, 'score', score)
end

local changed = { queued = {}, retrying = {} }

local function promote(zset, state)
  local ids = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, BOUND)
  for _, id in ipairs(ids) do
    local key = prefix .. id
    if redis.call('EXISTS', key) == 1 then
      to_ready(id, key)
      if state then
        redis.call('HSET', key, 'state', state, 'upd', now)
        local list = changed[state]
        list[#list + 1] = id
      end
    end
    redis.call('ZREM', zset, id)
  end
end
promote(KEYS[2], 'queued')
promote(KEYS[3], nil)

local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, BOUND)
for _, id in ipairs(expired) do
  local key = prefix .. id
  local fields = redis.call('HMGET', key, 'score', 'err')
  if fields[1] then
    local state = fields[2] and 'retrying' or 'queued'
    redis.call('ZADD', KEYS[1], fields[1], id)
    redis.call('HSET', key, 'state', state, 'upd', now)
    redis.call('HINCRBY', key, 'exe', -1)
    redis.call('HDEL', key, 'tok')
    local list = changed[state]
    list[#list + 1] = id
  end
  redis.call('ZREM', KEYS[4], id)
end

if ARGV[6] ~= '' then
  for _, state in ipairs({ 'queued', 'retrying' }) do
    if #changed[state] > 0 then
      redis.call('PUBLISH', ARGV[6], cjson.encode({ queue = ARGV[7], state = state, ids = changed[state] }))
    end
  end
end

local out = { -1 }
local leased = {}
local deadline = now + lease_ms
local popped = redis.call('ZPOPMIN', KEYS[1], max)
for i = 1, #popped, 2 do
  local id = popped[i]
  local key = prefix .. id
  local body = redis.call('HGET', key, 'body')
  if body then
    local exe = redis.call('HINCRBY', key, 'exe', 1)
    redis.call('HSET', key, 'state', 'running', 'tok', token, 'wid', worker, 'sta', now, 'upd', now)
    redis.call('ZADD', KEYS[4], deadline, id)
    out[#out + 1] = id
    out[#out + 1] = body
    out[#out + 1] = exe
    leased[#leased + 1] = id
  end
end

if #leased == 0 then
  local next = -2
  for k = 2, 4 do
    local first = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
    if first[2] then
      local wait = math.max(0, tonumber(first[2]) - now)
      if next == -2 or wait < next then next = wait end
    end
  end
  out[1] = next
elseif ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], cjson.encode({ queue = ARGV[7], state = 'running', ids = leased }))
end
return out
