--[[ batch-lib: batch records, shared by the scripts that count a batch's jobs and store its
  callbacks (`--!include batch-lib.lua`, after job-lib.lua). Not a command of its own.

  A batch (core's `adapter/batch.ts`) is one hash, `<prefix>:batch:<id>` (`gp .. 'batch:' ..
  id`), outside every queue's hash tag: its jobs may sit in several queues, and the settle
  of any of them updates it in the same script. Only a standalone Redis runs that atomically,
  which is why `capabilities.batches` is off on a Cluster. Fields:

    st    o (open), r (running: sealed by its creator), f (finished)
    tot pen suc dis dead fail   total, pending, succeeded, discarded, dead, failed runs
    desc  the description (absent: none)    cre  createdAt (ISO, as core gave it)
    fin   finishedAt ms (set once, at the first finish)
    ret   ms a finished record is kept (PEXPIRE): the opening adapter's retentionMs
    c:complete c:success c:failure   each callback given: JSON [id, queue, compact body,
          job class, priority, runAt ms, enqueuedAt ms] (batch.ts writes it)
    e:complete e:success e:failure   the id of each callback stored so far

  A job of a batch keeps the id in its record's `bt` (job-lib.lua); callbacks have none. The
  scripts gather their counts per batch in `batch_count` and apply them once per batch and
  call in `batch_apply`, which then finishes each batch that is sealed with nothing pending:
  one HGET and two HINCRBY per batch and call for a settle of its jobs, whatever their number.
  Callbacks stored here wake their queues and are published as 'enqueued' by `batch_publish`.
]]
local function batch_key(gp, id) return gp .. 'batch:' .. id end

-- Counts gathered in this script run: batch id -> { field -> delta }, in first-seen order.
local batch_deltas, batch_order = {}, {}
local function batch_count(id, field, n)
  local d = batch_deltas[id]
  if not d then
    d = {}
    batch_deltas[id] = d
    batch_order[#batch_order + 1] = id
  end
  d[field] = (d[field] or 0) + n
end

-- Callbacks stored in this run: queue -> ids; queues to wake.
local batch_stored, batch_wakes = {}, {}

-- Stores callback job `c` (the decoded `c:<kind>` field) as enqueue.lua stores a job: once
-- (an id stored already is left alone), due now to the tail of its ready list, else scheduled.
local function batch_store_job(gp, c, now)
  local id, queue, priority, run_at, enq = c[1], c[2], c[5], c[6], c[7]
  local base = gp .. '{' .. queue .. '}:'
  local jobs = base .. 'jobs'
  if redis.call('HEXISTS', jobs, id) == 1 then return end
  local rec = { k = c[3], j = c[4], n = enq, u = now - enq }
  if run_at <= now then
    ready_push(base .. 'prios', id, priority)
    batch_wakes[queue] = true
  else
    redis.call('ZADD', base .. 'scheduled', run_at, id)
    rec.s = 'scheduled'
  end
  if priority ~= 0 then rec.p = priority end
  if run_at ~= enq then rec.r = run_at - enq end
  job_put(jobs, id, rec)
  local list = batch_stored[queue]
  if not list then list = {}; batch_stored[queue] = list end
  list[#list + 1] = id
end

local BATCH_KINDS = { 'complete', 'success', 'failure' }

-- Finishes batch `key` if it is sealed and nothing is pending: marks it finished (once),
-- stores each callback that applies and was not stored yet (complete always; success when
-- nothing is discarded or dead, failure otherwise), and starts its expiry.
local function batch_finish(gp, key, now)
  local f = redis.call('HMGET', key, 'st', 'pen', 'dis', 'dead', 'ret', 'c:complete', 'c:success', 'c:failure', 'e:complete', 'e:success', 'e:failure')
  if (f[1] ~= 'r' and f[1] ~= 'f') or tonumber(f[2]) > 0 then return end
  if f[1] == 'r' then redis.call('HSET', key, 'st', 'f', 'fin', now) end
  local clean = tonumber(f[3]) + tonumber(f[4]) == 0
  for n, kind in ipairs(BATCH_KINDS) do
    local given, stored = f[5 + n], f[8 + n]
    if given and not stored and not (kind == 'success' and not clean) and not (kind == 'failure' and clean) then
      local c = cjson.decode(given)
      batch_store_job(gp, c, now)
      redis.call('HSET', key, 'e:' .. kind, c[1])
    end
  end
  redis.call('PEXPIRE', key, f[5])
end

local BATCH_FIELDS = { 'tot', 'pen', 'suc', 'dis', 'dead', 'fail' }

-- Applies the counts gathered by batch_count, then finishes the batches that are done. A
-- batch that no longer exists (expired after it finished) is not written again.
local function batch_apply(gp, now)
  for _, id in ipairs(batch_order) do
    local key = batch_key(gp, id)
    local st = redis.call('HGET', key, 'st')
    if st then
      local d = batch_deltas[id]
      for _, field in ipairs(BATCH_FIELDS) do
        local n = d[field]
        if n and n ~= 0 then redis.call('HINCRBY', key, field, n) end
      end
      if d.pen and d.pen < 0 and st ~= 'o' then batch_finish(gp, key, now) end
      -- A finished batch with work again (fan-out from a revived job) waits for it: no expiry.
      if d.pen and d.pen > 0 and st == 'f' then redis.call('PERSIST', key) end
    end
  end
end

-- Wakes the queues callbacks were stored in, and publishes them as 'enqueued'.
local function batch_publish(wake_channel, status_channel)
  for queue in pairs(batch_wakes) do redis.call('PUBLISH', wake_channel, queue) end
  if status_channel ~= '' then
    for queue, ids in pairs(batch_stored) do
      redis.call('PUBLISH', status_channel, cjson.encode({ queue = queue, state = 'enqueued', ids = ids }))
    end
  end
end
