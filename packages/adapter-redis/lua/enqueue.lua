--[[ enqueue: stores a batch of jobs of one queue.
  KEYS[1] prios      zset  priorities with ready jobs; the lists `ready:<p>` (job-lib.lua)
  KEYS[2] scheduled  zset  id -> runAt ms
  ARGV[1] the queue's jobs hash ("<prefix>:{<queue>}:jobs", job-lib.lua)
  ARGV[2] wake channel, ARGV[3] status channel ("" for none), ARGV[4] queue name
  ARGV[5] global prefix ("<prefix>:"), ARGV[6] the batch every job of this call belongs to
  ("" for none), ARGV[7] "c" to count the stored jobs in it, "m" not to (retries moved here
  from another queue: counted where they ran, retire.lua)
  ARGV[8] n, then n pairs: a batch named by the caller's whole enqueue (every call of it
  checks all of them) and the id of a job naming it
  then six per job: id, compact body (body.ts), job class, priority, runAt ms, enqueuedAt ms
  Returns the number of jobs due now (their queue's idle workers are woken).

  Batches (batch-lib.lua): the caller sends the jobs of one batch (or of none) per call. A
  batch of the pairs that does not exist fails the call before anything is stored, naming
  it; as every call of one enqueue checks every batch it names, a refused enqueue stores
  nothing in any queue. Each job stored adds 1 to its batch's `tot` and `pen` and keeps the
  batch id in its record (`bt`), which settle counts by. A move checks nothing and counts
  nothing (its batch may have expired since: it is then in none).

  A job whose record exists already is left alone: sending the same payload twice (a retried
  call after a lost reply) stores it once. Due jobs go to `ready`, later ones to `scheduled`
  (promoted by reserve.lua when due). Due jobs join the tail of their priority's list.
]]
--!include job-lib.lua
local jobs = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local due = 0
local stored = {}
local gp, batch = ARGV[5], ARGV[6]
local first = 9 + 2 * tonumber(ARGV[8])
for i = 9, first - 1, 2 do
  if redis.call('EXISTS', gp .. 'batch:' .. ARGV[i]) == 0 then
    return redis.error_reply('enqueue: job ' .. ARGV[i + 1] .. ' names batch ' .. ARGV[i] .. ', which does not exist (or expired)')
  end
end
local batch_key = batch ~= '' and gp .. 'batch:' .. batch
local batch_state = batch_key and redis.call('HGET', batch_key, 'st')
for i = first, #ARGV, 6 do
  local id = ARGV[i]
  if redis.call('HEXISTS', jobs, id) == 0 then
    local priority = tonumber(ARGV[i + 3])
    local run_at = tonumber(ARGV[i + 4])
    local state = 'scheduled'
    if run_at <= now then
      ready_push(KEYS[1], id, priority)
      state = 'queued'
      due = due + 1
    else
      redis.call('ZADD', KEYS[2], run_at, id)
    end
    local enq = tonumber(ARGV[i + 5])
    local rec = { k = ARGV[i + 1], j = ARGV[i + 2], n = enq, u = now - enq }
    if state ~= 'queued' then rec.s = state end
    if priority ~= 0 then rec.p = priority end
    if run_at ~= enq then rec.r = run_at - enq end
    if batch_key then rec.bt = batch end
    job_put(jobs, id, rec)
    stored[#stored + 1] = id
  end
end
if batch_state and ARGV[7] == 'c' and #stored > 0 then
  redis.call('HINCRBY', batch_key, 'tot', #stored)
  redis.call('HINCRBY', batch_key, 'pen', #stored)
  -- A finished batch with work again (fan-out from a revived job) waits for it: no expiry.
  if batch_state == 'f' then redis.call('PERSIST', batch_key) end
end
if due > 0 then redis.call('PUBLISH', ARGV[2], ARGV[4]) end
if ARGV[3] ~= '' and #stored > 0 then
  redis.call('PUBLISH', ARGV[3], cjson.encode({ queue = ARGV[4], state = 'enqueued', ids = stored }))
end
return due
