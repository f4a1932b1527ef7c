--[[ settle: records how a batch of leased jobs of one queue ended.
  KEYS[1] ready, KEYS[2] retrying, KEYS[3] active, KEYS[4] finished, KEYS[5] dead, KEYS[6] seq
  KEYS[7] flow (the queue's flow marker, keys.ts)
    finished  zset  id -> finished ms (succeeded and discarded jobs, trimmed by retention)
    dead      zset  id -> died ms (kept until purged)
    retrying  zset  id -> runAt ms of the next attempt
  ARGV[1] job key prefix, ARGV[2] retention ms, ARGV[3] max finished jobs kept
  ARGV[4] wake channel, ARGV[5] status channel ("" for none), ARGV[6] queue name
  ARGV[7] global prefix ("<prefix>:")
  ARGV[8..] five per settlement: id, lease token, outcome, a, b
    outcome s (succeeded): a = result text or "", b = "1" when there is a result
            f (failed, discarded): a = error JSON
            d (dead): a = error JSON, b = updated body or "" to keep the stored one
            r (retry): a = error JSON, b = updated body; the next attempt's runAt ms and
                       priority follow as two more fields (seven in all for r)
            l (released): the job goes back to its place, uncounted
  Returns the number of settlements applied; one whose token no longer matches (its lease
  expired and the job was leased again, or it was settled already) is left alone.

  Flow control (a job whose hash has `ck` or `uk`, read in a queue with the `flow` marker): any settle of the current lease frees the job's
  concurrency slot and un-parks one parked job of its key (flow-lib.lua); a final outcome
  (succeeded, failed, dead) removes the job's unique lock if it still holds it, unless a
  `done` lock outlives success (it expires by itself, PEXPIREAT).

  Retention rides on settle: finished jobs older than the retention or beyond the count are
  deleted, at most twice the batch plus 100 per call, so no call runs long.
]]
--!include flow-lib.lua
local prefix, gp = ARGV[1], ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local applied, woken = 0, false
local by_state = {}
local function note(state, id)
  local list = by_state[state]
  if not list then list = {}; by_state[state] = list end
  list[#list + 1] = id
end

local flowing = redis.call('EXISTS', KEYS[7]) == 1
local wakes = {}
-- Frees what job `id` held: its slot on any outcome; its unique lock on a final one. `f` is
-- the settle's HMGET (tok, state, ck, uk, uw): one read per job where a flow job took two
-- before (bench/flow: HMGET 3 → 2 per drained concurrency job).
local function let_go(id, f, outcome)
  if f[3] then flow_free_slot(gp, f[3], id, wakes) end
  if f[4] and (outcome == 'f' or outcome == 'd' or (outcome == 's' and f[5] ~= 'done')) then
    local lock = gp .. 'unique:' .. f[4]
    if redis.call('HGET', lock, 'id') == id then redis.call('DEL', lock) end
  end
end

local i = 8
while i <= #ARGV do
  local id, token, outcome, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local width = 5
  if outcome == 'r' then width = 7 end
  local key = prefix .. id
  local held
  if flowing then held = redis.call('HMGET', key, 'tok', 'state', 'ck', 'uk', 'uw') else held = redis.call('HMGET', key, 'tok', 'state') end
  if held[1] == token and held[2] == 'running' then
    applied = applied + 1
    if held[3] or held[4] then let_go(id, held, outcome) end
    redis.call('ZREM', KEYS[3], id)
    redis.call('HDEL', key, 'tok')
    if outcome == 's' then
      redis.call('HSET', key, 'state', 'succeeded', 'fin', now, 'upd', now)
      if b == '1' then redis.call('HSET', key, 'res', a) end
      redis.call('ZADD', KEYS[4], now, id)
      note('succeeded', id)
    elseif outcome == 'f' then
      redis.call('HSET', key, 'state', 'failed', 'err', a, 'fin', now, 'upd', now)
      redis.call('ZADD', KEYS[4], now, id)
      note('failed', id)
    elseif outcome == 'd' then
      redis.call('HSET', key, 'state', 'dead', 'err', a, 'fin', now, 'upd', now)
      if b ~= '' then redis.call('HSET', key, 'body', b) end
      redis.call('ZADD', KEYS[5], now, id)
      note('dead', id)
    elseif outcome == 'r' then
      local run_at, priority = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
      redis.call('HSET', key, 'state', 'retrying', 'err', a, 'body', b, 'run', run_at, 'priority', priority, 'upd', now)
      if run_at <= now then
        local seq = redis.call('INCR', KEYS[6])
        local score = (priority + 1048576) * 4294967296 + (seq % 4294967296)
        redis.call('ZADD', KEYS[1], score, id)
        redis.call('HSET', key, 'score', score)
        woken = true
      else
        redis.call('ZADD', KEYS[2], run_at, id)
      end
      note('retrying', id)
    else -- 'l': released
      local fields = redis.call('HMGET', key, 'score', 'err')
      redis.call('ZADD', KEYS[1], fields[1], id)
      redis.call('HSET', key, 'state', fields[2] and 'retrying' or 'queued', 'upd', now)
      redis.call('HINCRBY', key, 'exe', -1)
      woken = true
      note('queued', id)
    end
  end
  i = i + width
end

-- Retention of finished jobs.
local budget = 2 * applied + 100
local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, budget)
for _, id in ipairs(old) do
  redis.call('UNLINK', prefix .. id)
  redis.call('ZREM', KEYS[4], id)
end
local excess = redis.call('ZCARD', KEYS[4]) - tonumber(ARGV[3])
if excess > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[4], math.min(excess, budget))
  for j = 1, #oldest, 2 do redis.call('UNLINK', prefix .. oldest[j]) end
end

if woken then wakes[ARGV[6]] = true end
flow_wake(ARGV[4], wakes)
if ARGV[5] ~= '' then
  for state, ids in pairs(by_state) do
    redis.call('PUBLISH', ARGV[5], cjson.encode({ queue = ARGV[6], state = state, ids = ids }))
  end
end
return applied
