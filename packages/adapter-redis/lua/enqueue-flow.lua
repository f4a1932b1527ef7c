--[[ enqueue-flow: stores a batch of jobs of which some carry flow control, deciding
  uniqueness and recurring ticks in order, in the same step that stores them. Batches
  without flow take enqueue.lua, which this script extends (same fields, same arrival order).
  KEYS[1] the `scheduled` key of the first job's queue (routes the call; on a Redis Cluster the
          adapter sends one call per queue, and no job carries unique there)
  ARGV[1] global prefix ("<prefix>:"), ARGV[2] status channel ("" for none)
  ARGV[3] n, then n pairs: a batch named by the caller's whole enqueue and the id of a job
          naming it (every call of the enqueue checks them all, as enqueue.lua does)
  then per job: id, queue, compact body (body.ts), job class, priority, runAt ms, enqueuedAt ms, parts,
    then the arguments of each part, in the order of `parts`, a string of letters:
      u  unique: key, while, expiry ms ("" for none)     c  concurrency: key, limit
      r  rate: key, limit, perMs                         t  recurring: task, tick ms
      m  move (a retry moved here from another queue by a retry rule; no arguments)
      b  batch: its id (the job is counted in it, batch-lib.lua; a move is not counted again)
    So 11 arguments for a unique job, 8 for one without flow; it was 18 for every job, "" for
    each part absent (bench/flow, bulk enqueue of 20k unique jobs: ioredis's handling per
    argument was the top of the client's CPU profile, 36.6 µs per job against 12.2 plain).
  Returns one string per job: "" when it is stored (or was already: the same id sent again),
  else the id of the job it duplicates.

  Per job, in order:
  - its record exists already: a retried call; nothing changes.
  - recurring: the queue's `recurring` hash holds "<lastTick> <jobId>" per task. A tick not
    later than lastTick is a duplicate of jobId (unless jobId is this job: a retried call,
    or the job moving queues by a retry rule).
  - unique: the lock `unique:<key>` names its holder. A duplicate when the holder is another
    job, the lock's expiry is ahead (or it has none) and the holder's state is one its
    `while` blocks (the table below); a holder whose record is gone never blocks.
  - a move is no new job: it is stored without either decision (it was decided when first
    enqueued; refusing it now would lose it), and a unique lock naming it follows it here.
  - otherwise the job is stored as enqueue.lua stores it, with its flow fields (keys.ts),
    and becomes the task's last tick and the key's holder (PEXPIREAT at the expiry). A job
    with unique, concurrency or rate flow sets its queue's `flow` marker (keys.ts), once per
    queue and call. The job's record is written in one HSET (its flow fields included): four
    HSETs and a SET per unique job before, 32 µs of server time per job against 14 for a plain
    one (bench/flow, bulk of 20k).
  Due jobs wake their queue; stored ids are published as 'enqueued' per queue.
  A batch of the pairs that does not exist fails the call before anything is stored, naming
  it; each job stored in a batch (part b) counts in its `tot` and `pen`, unless it is a move.
]]
--!include job-lib.lua
--!include batch-lib.lua
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

-- The id of the job `id` duplicates under unique key `uk`, or nil; and whether the lock exists
-- (the script writes every lock with its `id`: no `id`, no lock to clear before writing it).
local function unique_duplicate(id, uk)
  local lock = redis.call('HMGET', gp .. 'unique:' .. uk, 'id', 'q', 'w', 'exp')
  local holder = lock[1]
  if not holder then return nil, false end
  if holder == id then return nil, true end
  local exp = tonumber(lock[4])
  if exp and exp <= now then return nil, true end
  local rec = job_get(qkey(lock[2], 'jobs'), holder)
  local state = rec and (rec.s or 'queued')
  local blocks = BLOCKING[lock[3]]
  if state and blocks and blocks[state] then return holder, true end
  return nil, true
end

local first = 4 + 2 * tonumber(ARGV[3])
for i = 4, first - 1, 2 do
  if redis.call('EXISTS', batch_key(gp, ARGV[i])) == 0 then
    return redis.error_reply('enqueue: job ' .. ARGV[i + 1] .. ' names batch ' .. ARGV[i] .. ', which does not exist (or expired)')
  end
end

local out = {}
-- Queues whose `flow` marker this call has set (once per queue, not per job).
local due, stored, flagged = {}, {}, {}
local i = first
while i <= #ARGV do
  local id, queue = ARGV[i], ARGV[i + 1]
  local jobs = qkey(queue, 'jobs')
  local base, parts = i, ARGV[i + 7]
  local uk, uw, uexp, ck, cl, rk, rl, rp, task, tick = '', '', '', '', '', '', '', '', '', ''
  local move, bt = false, nil
  i = i + 8
  for p = 1, #parts do
    local part = string.sub(parts, p, p)
    if part == 'u' then
      uk, uw, uexp = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3
    elseif part == 'c' then
      ck, cl = ARGV[i], ARGV[i + 1]; i = i + 2
    elseif part == 'r' then
      rk, rl, rp = ARGV[i], ARGV[i + 1], ARGV[i + 2]; i = i + 3
    elseif part == 't' then
      task, tick = ARGV[i], ARGV[i + 1]; i = i + 2
    elseif part == 'm' then
      move = true
    elseif part == 'b' then
      bt = ARGV[i]; i = i + 1
    else
      return redis.error_reply('enqueue-flow: unknown part ' .. part .. ' of job ' .. id)
    end
  end
  local duplicate, locked
  if redis.call('HEXISTS', jobs, id) == 0 then
    if move then
      task = ''
    else
      if task ~= '' then duplicate = recurring_duplicate(id, queue, task, tonumber(tick)) end
      if not duplicate and uk ~= '' then duplicate, locked = unique_duplicate(id, uk) end
    end
    if not duplicate then
      local priority, run_at = tonumber(ARGV[base + 4]), tonumber(ARGV[base + 5])
      local state = 'scheduled'
      if run_at <= now then
        ready_push(qkey(queue, 'prios'), id, priority)
        state = 'queued'
        due[queue] = true
      else
        redis.call('ZADD', qkey(queue, 'scheduled'), run_at, id)
      end
      -- One record with the flow fields (job-lib.lua); reserve and settle read them with the
      -- record they read anyway.
      local enq = tonumber(ARGV[base + 6])
      local rec = { k = ARGV[base + 2], j = ARGV[base + 3], n = enq, u = now - enq }
      if state ~= 'queued' then rec.s = state end
      if priority ~= 0 then rec.p = priority end
      if run_at ~= enq then rec.r = run_at - enq end
      if uk ~= '' then rec.uk, rec.uw = uk, uw end
      if ck ~= '' then rec.ck, rec.cl = ck, cl end
      if rk ~= '' then rec.rk, rec.rl, rec.rp = rk, rl, rp end
      if bt then
        rec.bt = bt
        if not move then
          batch_count(bt, 'tot', 1)
          batch_count(bt, 'pen', 1)
        end
      end
      job_put(jobs, id, rec)
      if (uk ~= '' or ck ~= '' or rk ~= '') and not flagged[queue] then
        redis.call('SET', qkey(queue, 'flow'), '1')
        flagged[queue] = true
      end
      if uk ~= '' then
        local lock = gp .. 'unique:' .. uk
        if not move then
          -- A lock replaced loses its fields and its expiry (DEL); a new one has neither.
          if locked then redis.call('DEL', lock) end
          redis.call('HSET', lock, 'id', id, 'q', queue, 'w', uw, 'exp', uexp)
          if uexp ~= '' then redis.call('PEXPIREAT', lock, uexp) end
        elseif redis.call('HGET', lock, 'id') == id then
          redis.call('HSET', lock, 'q', queue)
        end
      end
      if task ~= '' then redis.call('HSET', qkey(queue, 'recurring'), task, tick .. ' ' .. id) end
      local list = stored[queue]
      if not list then list = {}; stored[queue] = list end
      list[#list + 1] = id
    end
  end
  out[#out + 1] = duplicate or ''
end
if #batch_order > 0 then batch_apply(gp, now) end
for queue in pairs(due) do redis.call('PUBLISH', gp .. 'wake', queue) end
if ARGV[2] ~= '' then
  for queue, ids in pairs(stored) do
    redis.call('PUBLISH', ARGV[2], cjson.encode({ queue = queue, state = 'enqueued', ids = ids }))
  end
end
return out
