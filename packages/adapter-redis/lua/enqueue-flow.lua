--[[ enqueue-flow: stores a batch of jobs of which some carry flow control, deciding
  uniqueness and recurring ticks in order, in the same step that stores them. Batches
  without flow take enqueue.lua, which this script extends (same fields, same arrival order).
  KEYS[1] the `seq` key of the first job's queue (routes the call; on a Redis Cluster the
          adapter sends one call per queue, and no job carries unique there)
  ARGV[1] global prefix ("<prefix>:"), ARGV[2] status channel ("" for none)
  ARGV[3..] eighteen per job: id, queue, body, job class, priority, runAt ms, enqueuedAt ms,
    unique key, unique while, unique expiry ms, concurrency key, limit, rate key, limit,
    perMs, recurring task, tick ms ("" for each part absent; expiry "" for none), move ("1"
    for a retry moved here from another queue by a retry rule, else "")
  Returns one string per job: "" when it is stored (or was already: the same id sent again),
  else the id of the job it duplicates.

  Per job, in order:
  - its hash exists already: a retried call; nothing changes.
  - recurring: the queue's `recurring` hash holds "<lastTick> <jobId>" per task. A tick not
    later than lastTick is a duplicate of jobId (unless jobId is this job: a retried call,
    or the job moving queues by a retry rule).
  - unique: the lock `unique:<key>` names its holder. A duplicate when the holder is another
    job, the lock's expiry is ahead (or it has none) and the holder's state is one its
    `while` blocks (the table below); a holder whose hash is gone never blocks.
  - a move is no new job: it is stored without either decision (it was decided when first
    enqueued; refusing it now would lose it), and a unique lock naming it follows it here.
  - otherwise the job is stored as enqueue.lua stores it, with its flow fields (keys.ts),
    and becomes the task's last tick and the key's holder (PEXPIREAT at the expiry). A job
    with unique, concurrency or rate flow sets its queue's `flow` marker (keys.ts), once per
    queue and call. The job's hash is written in one HSET (its flow fields included): four
    HSETs and a SET per unique job before, 32 µs of server time per job against 14 for a plain
    one (bench/flow, bulk of 20k).
  Due jobs wake their queue; stored ids are published as 'enqueued' per queue.
]]
local gp = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local BLOCKING = {
  queued = { scheduled = true, queued = true },
  active = { scheduled = true, queued = true, running = true, retrying = true },
  done = { scheduled = true, queued = true, running = true, retrying = true, succeeded = true },
}

local function qkey(queue, name) return gp .. '{' .. queue .. '}:' .. name end

-- The id of the job `id` duplicates under its recurring task, or nil.
local function recurring_duplicate(id, queue, task, tick)
  local last = redis.call('HGET', qkey(queue, 'recurring'), task)
  if not last then return nil end
  local space = string.find(last, ' ', 1, true)
  local last_tick, last_id = tonumber(string.sub(last, 1, space - 1)), string.sub(last, space + 1)
  if last_id ~= id and tick <= last_tick then return last_id end
  return nil
end

-- The id of the job `id` duplicates under unique key `uk`, or nil.
local function unique_duplicate(id, uk)
  local lock = redis.call('HMGET', gp .. 'unique:' .. uk, 'id', 'q', 'w', 'exp')
  local holder = lock[1]
  if not holder or holder == id then return nil end
  local exp = tonumber(lock[4])
  if exp and exp <= now then return nil end
  local state = redis.call('HGET', qkey(lock[2], 'j:') .. holder, 'state')
  local blocks = BLOCKING[lock[3]]
  if state and blocks and blocks[state] then return holder end
  return nil
end

local out = {}
-- Queues whose `flow` marker this call has set (once per queue, not per job).
local due, stored, flagged = {}, {}, {}
for i = 3, #ARGV, 18 do
  local id, queue = ARGV[i], ARGV[i + 1]
  local key = qkey(queue, 'j:') .. id
  local uk, ck, rk, task = ARGV[i + 7], ARGV[i + 10], ARGV[i + 12], ARGV[i + 15]
  local move = ARGV[i + 17] == '1'
  local duplicate
  if redis.call('EXISTS', key) == 0 then
    if move then
      task = ''
    else
      if task ~= '' then duplicate = recurring_duplicate(id, queue, task, tonumber(ARGV[i + 16])) end
      if not duplicate and uk ~= '' then duplicate = unique_duplicate(id, uk) end
    end
    if not duplicate then
      local priority, run_at = tonumber(ARGV[i + 4]), tonumber(ARGV[i + 5])
      local state, score = 'scheduled', ''
      if run_at <= now then
        local seq = redis.call('INCR', qkey(queue, 'seq'))
        score = (priority + 1048576) * 4294967296 + (seq % 4294967296)
        redis.call('ZADD', qkey(queue, 'ready'), score, id)
        state = 'queued'
        due[queue] = true
      else
        redis.call('ZADD', qkey(queue, 'scheduled'), run_at, id)
      end
      -- One HSET with the flow fields (keys.ts): `fl` is "1" when limits follow (reserve
      -- admits the job), "u" when only a unique key does (reserve skips the admission).
      local fields = { 'body', ARGV[i + 2], 'job', ARGV[i + 3], 'queue', queue, 'priority', priority,
        'state', state, 'exe', 0, 'run', run_at, 'enq', ARGV[i + 6], 'upd', now, 'score', score }
      if ck ~= '' or rk ~= '' then
        fields[#fields + 1] = 'fl'; fields[#fields + 1] = '1'
      elseif uk ~= '' then
        fields[#fields + 1] = 'fl'; fields[#fields + 1] = 'u'
      end
      if uk ~= '' then
        fields[#fields + 1] = 'uk'; fields[#fields + 1] = uk
        fields[#fields + 1] = 'uw'; fields[#fields + 1] = ARGV[i + 8]
      end
      if ck ~= '' then
        fields[#fields + 1] = 'ck'; fields[#fields + 1] = ck
        fields[#fields + 1] = 'cl'; fields[#fields + 1] = ARGV[i + 11]
      end
      if rk ~= '' then
        fields[#fields + 1] = 'rk'; fields[#fields + 1] = rk
        fields[#fields + 1] = 'rl'; fields[#fields + 1] = ARGV[i + 13]
        fields[#fields + 1] = 'rp'; fields[#fields + 1] = ARGV[i + 14]
      end
      redis.call('HSET', key, unpack(fields))
      if (uk ~= '' or ck ~= '' or rk ~= '') and not flagged[queue] then
        redis.call('SET', qkey(queue, 'flow'), '1')
        flagged[queue] = true
      end
      if uk ~= '' then
        local lock = gp .. 'unique:' .. uk
        if not move then
          redis.call('DEL', lock)
          redis.call('HSET', lock, 'id', id, 'q', queue, 'w', ARGV[i + 8], 'exp', ARGV[i + 9])
          if ARGV[i + 9] ~= '' then redis.call('PEXPIREAT', lock, ARGV[i + 9]) end
        elseif redis.call('HGET', lock, 'id') == id then
          redis.call('HSET', lock, 'q', queue)
        end
      end
      if task ~= '' then redis.call('HSET', qkey(queue, 'recurring'), task, ARGV[i + 16] .. ' ' .. id) end
      local list = stored[queue]
      if not list then list = {}; stored[queue] = list end
      list[#list + 1] = id
    end
  end
  out[#out + 1] = duplicate or ''
end
for queue in pairs(due) do redis.call('PUBLISH', gp .. 'wake', queue) end
if ARGV[2] ~= '' then
  for queue, ids in pairs(stored) do
    redis.call('PUBLISH', ARGV[2], cjson.encode({ queue = queue, state = 'enqueued', ids = ids }))
  end
end
return out
