--[[ queue-counts: a queue's jobs per state, and how long its oldest queued job has waited.
  KEYS[1] prios (job-lib.lua), KEYS[2] scheduled, KEYS[3] retrying, KEYS[4] active, KEYS[5] dead,
  KEYS[6] done, KEYS[7] failed, KEYS[8] parked, KEYS[9] deferred (keys.ts)
  ARGV[1] the queue's jobs hash (job-lib.lua)
  Returns { queued, scheduled, running, retrying, dead, succeeded, failed, latency ms }.

  Every count is a length (LLEN, ZCARD, ZCOUNT): O(1) or O(log n) whatever the queue holds,
  plus one LLEN per priority with ready jobs. Queued: the ready lists, jobs parked or
  deferred by flow limits, and scheduled jobs whose time came but that no reserve promoted
  yet (their status reads queued already, status-hash.ts); scheduled: the others.

  Latency: now minus the earliest runAt among the head of each ready list (FIFO: the head
  waited longest; a job handed back goes to the head and is older still) and the first due
  scheduled job; 0 when none is queued. Parked and deferred jobs wait on purpose and are
  left out. One record read per priority.
]]
--!include job-lib.lua
local jobs = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ready, oldest = 0, nil
for _, p in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local list = ready_list(KEYS[1], p)
  ready = ready + redis.call('LLEN', list)
  local head = redis.call('LINDEX', list, 0)
  local rec = head and job_get(jobs, head)
  if rec then
    local run_at = rec.n + (rec.r or 0)
    if not oldest or run_at < oldest then oldest = run_at end
  end
end
local due = redis.call('ZCOUNT', KEYS[2], '-inf', now)
if due > 0 then
  local first = tonumber(redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')[2])
  if not oldest or first < oldest then oldest = first end
end
local latency = 0
if oldest then latency = math.max(0, now - oldest) end
return {
  ready + due + redis.call('ZCARD', KEYS[8]) + redis.call('ZCARD', KEYS[9]),
  redis.call('ZCARD', KEYS[2]) - due,
  redis.call('ZCARD', KEYS[4]),
  redis.call('ZCARD', KEYS[3]),
  redis.call('ZCARD', KEYS[5]),
  redis.call('LLEN', KEYS[6]),
  redis.call('LLEN', KEYS[7]),
  latency,
}
