--[[ status-index-lib: the status store's listing indexes, kept by every script that changes a
  status's state (`--!include status-index-lib.lua`; not a command of its own). See
  status-control.ts for the layout:

    <P>i:<state>:<queue>:<job>  zset  the jobs of one state, queue and class:
                                      queued, scheduled, retrying by runAt (ms), running at 0
                                      (so by id), succeeded, failed, dead by finish time (ms)
    <P>i:pairs                  set   "<queue>\n<job>" of every index key ever written

  P is the store's key head "{<prefix>}:". One zset per (state, queue, class) costs a status
  write what a zset per (state, queue) would (one ZREM, one ZADD per change of state), and
  lets a listing filtered by queue, class or both merge only the zsets that match.
  Finished zsets are trimmed of entries older than their state's retention (finishedTtlMs,
  deadTtlMs for dead) whenever an entry is added to them (their hashes have expired by then).
]]
local IX_FINISHED = { succeeded = true, failed = true, dead = true }

local function ix_key(P, state, queue, job)
  return P .. 'i:' .. state .. ':' .. queue .. ':' .. job
end

-- Drops a job's entry from its state's index (a no-op for a job without one).
local function ix_drop(P, state, queue, job, id)
  if state and queue and job then redis.call('ZREM', ix_key(P, state, queue, job), id) end
end

-- Adds a job to its state's index; `register` records the (queue, class) pair (a new job, a
-- retry that may have changed queue). A finished entry trims its zset by `ttl` ms.
local function ix_add(P, state, queue, job, id, score, now, ttl, register)
  local key = ix_key(P, state, queue, job)
  redis.call('ZADD', key, score, id)
  if register then redis.call('SADD', P .. 'i:pairs', queue .. '\n' .. job) end
  if IX_FINISHED[state] and ttl then redis.call('ZREMRANGEBYSCORE', key, '-inf', '(' .. (now - tonumber(ttl))) end
end

-- The index score of a state: run time while waiting, 0 while running, finish time after.
local function ix_score(state, run, now)
  if state == 'running' then return 0 end
  if IX_FINISHED[state] then return now end
  return run
end
