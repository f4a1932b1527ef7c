--[[ settle: records how a batch of leased jobs of one queue ended.
  KEYS[1] prios (job-lib.lua), KEYS[2] retrying, KEYS[3] active, KEYS[4] done, KEYS[5] dead,
  KEYS[6] flow (the queue's flow marker, keys.ts), KEYS[7] failed
    done      list  succeeded jobs, in the order they finished (trimmed by retention from
                    the head; a list entry costs ~40 bytes, a zset member ~130:
                    bench/redis/memory.ts)
    failed    list  failed (discarded) jobs, likewise (layout 4: apart from the succeeded
                    ones, so a queue's failed jobs are counted and listed without reading
                    its succeeded ones)
    dead      zset  id -> died ms (kept until purged)
    retrying  zset  id -> runAt ms of the next attempt
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] retention ms, ARGV[3] max finished jobs kept
  ARGV[4] wake channel, ARGV[5] status channel ("" for none), ARGV[6] queue name
  ARGV[7] global prefix ("<prefix>:")
  ARGV[8..] five per settlement: id, lease token, outcome, a, b
    outcome s (succeeded): a = result text or "", b = "1" when there is a result
            f (failed, discarded): a = error JSON
            d (dead): a = error JSON, b = updated compact body or "" to keep the stored one
            r (retry): a = error JSON, b = updated compact body (body.ts); the next
                       attempt's runAt ms and priority follow as two more fields (seven in
                       all for r)
            l (released): the job goes back to its place, uncounted
  Returns the number of settlements applied; one whose token no longer matches (its lease
  expired and the job was leased again, or it was settled already) is left alone.

  A succeeded or failed (discarded) job keeps only what its status needs: its body goes.

  Flow control (a job whose record has `ck` or `uk`, read in a queue with the `flow` marker): any settle of the current lease frees the job's
  concurrency slot and un-parks one parked job of its key (flow-lib.lua); a final outcome
  (succeeded, failed, dead) removes the job's unique lock if it still holds it, unless a
  `done` lock outlives success (it expires by itself, PEXPIREAT).

  Batches (a record with `bt`, batch-lib.lua): the outcomes of the current lease are counted
  in the job's batch — s: suc +1, f: dis +1, d: dead +1, each pen −1; r: fail +1 — summed
  per batch over the call and applied once; a batch sealed with nothing left pending
  finishes here, its callbacks stored in their queues in this same script.

  Retention rides on settle: finished jobs older than the retention or beyond the count (of
  both lists together, the older head first) are deleted, at most twice the batch plus 100
  per call, so no call runs long.
]]
--!include flow-lib.lua
--!include job-lib.lua
--!include batch-lib.lua
local jobs, gp = ARGV[1], ARGV[7]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local applied, woken = 0, false
local by_state = {}
local function note(state, id)
  local list = by_state[state]
  if not list then list = {}; by_state[state] = list end
  list[#list + 1] = id
end

local flowing = redis.call('EXISTS', KEYS[6]) == 1
local wakes = {}
-- The slots to free, per concurrency key: removed after the loop, one ZREM per key and call,
-- where it was one ZREM per job. The parked job a freed slot lets through is un-parked at
-- once, as before (a released job then goes back ahead of it); nothing reads the slots in
-- between, and reserve counts them again anyway.
local freed, freed_keys = {}, {}
-- Frees what job `id` held: its slot on any outcome; its unique lock on a final one. `f` is
-- the job's record.
local function let_go(id, f, outcome)
  if f.ck then
    -- The first holder of a key is kept as its id, a table only from the second one: a table
    -- per key cost more than the ZREM it saves when keys do not repeat (callgrind).
    local ids = freed[f.ck]
    if not ids then
      freed[f.ck] = id
      freed_keys[#freed_keys + 1] = f.ck
    elseif type(ids) == 'string' then
      freed[f.ck] = { ids, id }
    else
      ids[#ids + 1] = id
    end
    flow_unpark(gp, f.ck, 1, wakes)
  end
  if f.uk and (outcome == 'f' or outcome == 'd' or (outcome == 's' and f.uw ~= 'done')) then
    local lock = gp .. 'unique:' .. f.uk
    if redis.call('HGET', lock, 'id') == id then redis.call('DEL', lock) end
  end
end

local i = 8
while i <= #ARGV do
  local id, token, outcome, a, b = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local width = 5
  if outcome == 'r' then width = 7 end
  local rec = job_get(jobs, id)
  if rec and rec.t == token and rec.s == 'running' then
    applied = applied + 1
    if flowing and (rec.ck or rec.uk) then let_go(id, rec, outcome) end
    redis.call('ZREM', KEYS[3], id)
    rec.t, rec.u = nil, now - rec.n
    local bt = rec.bt
    if bt then
      -- A succeeded or discarded job is never counted again (only a dead one can come back,
      -- revive-dead.lua): its record lets go of the id, ~40 bytes per finished job kept.
      if outcome == 's' then batch_count(bt, 'suc', 1); batch_count(bt, 'pen', -1); rec.bt = nil
      elseif outcome == 'f' then batch_count(bt, 'dis', 1); batch_count(bt, 'pen', -1); rec.bt = nil
      elseif outcome == 'd' then batch_count(bt, 'dead', 1); batch_count(bt, 'pen', -1)
      elseif outcome == 'r' then batch_count(bt, 'fail', 1) end
    end
    if outcome == 's' then
      rec.s, rec.f, rec.k, rec.b = 'succeeded', now - rec.n, nil, nil
      if b == '1' then rec.x = a end
      redis.call('RPUSH', KEYS[4], id)
      note('succeeded', id)
    elseif outcome == 'f' then
      rec.s, rec.o, rec.f, rec.k, rec.b = 'failed', a, now - rec.n, nil, nil
      redis.call('RPUSH', KEYS[7], id)
      note('failed', id)
    elseif outcome == 'd' then
      rec.s, rec.o, rec.f = 'dead', a, now - rec.n
      if b ~= '' then rec.k, rec.b = b, nil end
      redis.call('ZADD', KEYS[5], now, id)
      note('dead', id)
    elseif outcome == 'r' then
      local run_at, priority = tonumber(ARGV[i + 5]), tonumber(ARGV[i + 6])
      rec.s, rec.o, rec.k, rec.b = 'retrying', a, b, nil
      rec.r = run_at - rec.n
      if rec.r == 0 then rec.r = nil end
      rec.p = priority
      if priority == 0 then rec.p = nil end
      if run_at <= now then
        ready_push(KEYS[1], id, priority)
        woken = true
      else
        redis.call('ZADD', KEYS[2], run_at, id)
      end
      note('retrying', id)
    else -- 'l': released
      ready_push(KEYS[1], id, rec.p, true)
      rec.s = rec.o and 'retrying' or nil
      rec.e = (rec.e or 0) - 1
      if rec.e == 0 then rec.e = nil end
      woken = true
      note('queued', id)
    end
    job_put(jobs, id, rec)
  end
  i = i + width
end

if #batch_order > 0 then batch_apply(gp, now) end

-- Retention of finished jobs, oldest first: beyond the count, then past the age (the head's
-- finish time, read from its record). A record is deleted only while it is still finished.
-- Beyond the count, the two lists' heads are compared only while both have jobs (with no
-- failed job, exactly the one-list path of layout 3).
local function finished(rec) return rec and (rec.s == 'succeeded' or rec.s == 'failed') end
local function drop(id)
  local rec = job_get(jobs, id)
  if finished(rec) then redis.call('HDEL', jobs, id) end
end
-- The finish time of a list's head, or nil when the list is empty (a head that is no
-- longer finished counts as oldest: it goes first).
local function head_time(list)
  local head = redis.call('LINDEX', list, 0)
  if not head then return nil end
  local rec = job_get(jobs, head)
  if finished(rec) then return rec.n + (rec.f or 0) end
  return -1
end
local budget = 2 * applied + 100
local done_len, failed_len = redis.call('LLEN', KEYS[4]), redis.call('LLEN', KEYS[7])
local excess = done_len + failed_len - tonumber(ARGV[3])
if excess > 0 and (done_len == 0 or failed_len == 0) then
  local list = KEYS[4]
  if done_len == 0 then list = KEYS[7] end
  local oldest = redis.call('LPOP', list, math.min(excess, budget))
  for _, id in ipairs(oldest) do drop(id) end
  budget = budget - #oldest
elseif excess > 0 then
  local dt, ft = head_time(KEYS[4]), head_time(KEYS[7])
  while excess > 0 and budget > 0 and (dt or ft) do
    local list = KEYS[4]
    if not dt or (ft and ft < dt) then list = KEYS[7] end
    drop(redis.call('LPOP', list))
    if list == KEYS[4] then dt = head_time(list) else ft = head_time(list) end
    excess, budget = excess - 1, budget - 1
  end
end
local cutoff = now - tonumber(ARGV[2])
for _, list in ipairs({ KEYS[4], KEYS[7] }) do
  while budget > 0 do
    local head = redis.call('LINDEX', list, 0)
    if not head then break end
    local rec = job_get(jobs, head)
    if finished(rec) and rec.n + (rec.f or 0) > cutoff then break end
    redis.call('LPOP', list)
    if finished(rec) then redis.call('HDEL', jobs, head) end
    budget = budget - 1
  end
end

for _, ck in ipairs(freed_keys) do
  local ids = freed[ck]
  if type(ids) == 'string' then
    redis.call('ZREM', gp .. 'slots:' .. ck, ids)
  else
    for from = 1, #ids, 1000 do redis.call('ZREM', gp .. 'slots:' .. ck, unpack(ids, from, math.min(from + 999, #ids))) end
  end
end
if woken then wakes[ARGV[6]] = true end
flow_wake(ARGV[4], wakes)
batch_publish(ARGV[4], ARGV[5])
if ARGV[5] ~= '' then
  for state, ids in pairs(by_state) do
    redis.call('PUBLISH', ARGV[5], cjson.encode({ queue = ARGV[6], state = state, ids = ids }))
  end
end
return applied
