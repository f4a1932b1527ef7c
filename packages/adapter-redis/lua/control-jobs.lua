--[[ control-jobs: an operator's action on jobs of one queue (control.ts): cancel, run now, or
  the check before an abort.
  KEYS[1] prios (job-lib.lua), KEYS[2] scheduled, KEYS[3] retrying, KEYS[4] parked,
  KEYS[5] deferred, KEYS[6] failed (keys.ts)
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] action: c (cancel), n (run now), a (abort)
  ARGV[3] global prefix ("<prefix>:"), ARGV[4] wake channel, ARGV[5] status channel ("" for none)
  ARGV[6] queue name, ARGV[7] the cancelled jobs' error (JSON)
  ARGV[8..] c, a: one id per job; n: four per job: id, the body with runAt now (compact,
            body.ts), that runAt (ms), and the updatedAt (ms) its body was read at
  Returns the ids the action applied to, in the order given; for a, each followed by the
  lease token of its run.

  c: a job not started yet (queued, scheduled, retrying) leaves the place it waits in (its
     scheduled or retrying zset, its ready list, or the parked or deferred zset of a flow
     limit; a parked job's entry in the global `parked:<key>` list is skipped when un-parked,
     flow-lib.lua) and becomes failed with the given error, at the tail of `failed`, its body
     dropped as a discarded job's is. A unique lock it holds is deleted (standalone Redis only:
     no job carries one on a Cluster). Published as 'failed'. A job of a batch (`bt`,
     batch-lib.lua) is counted as discarded in it (it will never run, and its batch must
     still finish): a batch left with nothing pending finishes here, storing its callbacks.
  n: a scheduled or retrying job waiting in its zset joins the tail of its ready list,
     queued, with the body given (runAt now), unless its record changed since the body was
     read (its updatedAt differs: it ran in between). Wakes the queue; published as 'queued'.
  a: nothing is written: answers which jobs are running (their lease is held) with their
     lease tokens, so the caller marks those runs (control-beat.lua reads the marks).

  A job in a ready list is removed with LREM, which walks the list from its head to the job:
  cheap for the jobs an operator sees first (the head is what a reserve takes next). Past 8
  ids in one list, the list is walked once instead (LRANGE in chunks of 1,000, up to the last
  of them found), each found entry overwritten with a tombstone (LSET), and the tombstones
  removed by one LREM that stops after the last: O(depth of the deepest) instead of 8 or more
  walks, and never the whole of a long list unless a job sits at its end.
]]
--!include job-lib.lua
--!include batch-lib.lua
local jobs, action, gp = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local applied = {}

local function state_of(rec) return rec.s or 'queued' end

if action == 'a' then
  for i = 8, #ARGV do
    local rec = job_get(jobs, ARGV[i])
    if rec and rec.s == 'running' and rec.t then
      applied[#applied + 1] = ARGV[i]
      applied[#applied + 1] = rec.t
    end
  end
  return applied
end

if action == 'n' then
  for i = 8, #ARGV, 4 do
    local id, body, run_at, read_at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
    local rec = job_get(jobs, id)
    if rec and rec.n + (rec.u or 0) == read_at then
      local state = state_of(rec)
      local zset = (state == 'scheduled' and KEYS[2]) or (state == 'retrying' and KEYS[3]) or nil
      if zset and redis.call('ZREM', zset, id) == 1 then
        rec.k, rec.b, rec.s = body, nil, nil
        rec.r = run_at - rec.n
        if rec.r == 0 then rec.r = nil end
        rec.u = now - rec.n
        job_put(jobs, id, rec)
        ready_push(KEYS[1], id, rec.p)
        applied[#applied + 1] = id
      end
    end
  end
  if #applied > 0 then
    redis.call('PUBLISH', ARGV[4], ARGV[6])
    if ARGV[5] ~= '' then redis.call('PUBLISH', ARGV[5], cjson.encode({ queue = ARGV[6], state = 'queued', ids = applied })) end
  end
  return applied
end

-- c: cancel. First the jobs that wait in a zset; those in a ready list are gathered per list.
local in_lists, lists = {}, {}
local recs = {}
for i = 8, #ARGV do
  local id = ARGV[i]
  local rec = job_get(jobs, id)
  local state = rec and state_of(rec)
  if (state == 'queued' or state == 'scheduled' or state == 'retrying') and not recs[id] then
    recs[id] = rec
    local gone = (state == 'scheduled' and redis.call('ZREM', KEYS[2], id) == 1)
      or (state == 'retrying' and redis.call('ZREM', KEYS[3], id) == 1)
      or redis.call('ZREM', KEYS[5], id) == 1
      or redis.call('ZREM', KEYS[4], id) == 1
    if gone then
      applied[id] = true
    else
      local p = rec.p or 0
      local list = in_lists[p]
      if not list then
        list = {}
        in_lists[p] = list
        lists[#lists + 1] = p
      end
      list[#list + 1] = id
    end
  end
end

for _, p in ipairs(lists) do
  local list, ids = ready_list(KEYS[1], p), in_lists[p]
  if #ids <= 8 then
    for _, id in ipairs(ids) do
      if redis.call('LREM', list, 1, id) == 1 then applied[id] = true end
    end
  else
    local TOMB = '\0cancelled'
    local want, left, found, at = {}, #ids, 0, 0
    for _, id in ipairs(ids) do want[id] = true end
    while left > 0 do
      local chunk = redis.call('LRANGE', list, at, at + 999)
      if #chunk == 0 then break end
      for j, entry in ipairs(chunk) do
        if want[entry] then
          redis.call('LSET', list, at + j - 1, TOMB)
          want[entry], applied[entry] = nil, true
          left, found = left - 1, found + 1
        end
      end
      at = at + #chunk
    end
    if found > 0 then redis.call('LREM', list, found, TOMB) end
  end
  if redis.call('EXISTS', list) == 0 then redis.call('ZREM', KEYS[1], p) end
end

local out = {}
for i = 8, #ARGV do
  local id = ARGV[i]
  local rec = recs[id]
  if applied[id] and rec then
    applied[id] = nil
    if rec.uk then
      local lock = gp .. 'unique:' .. rec.uk
      if redis.call('HGET', lock, 'id') == id then redis.call('DEL', lock) end
    end
    if rec.bt then
      batch_count(rec.bt, 'dis', 1)
      batch_count(rec.bt, 'pen', -1)
      rec.bt = nil
    end
    rec.s, rec.o, rec.k, rec.b, rec.t = 'failed', ARGV[7], nil, nil, nil
    rec.f, rec.u = now - rec.n, now - rec.n
    job_put(jobs, id, rec)
    redis.call('RPUSH', KEYS[6], id)
    out[#out + 1] = id
  end
end
if ARGV[5] ~= '' and #out > 0 then
  redis.call('PUBLISH', ARGV[5], cjson.encode({ queue = ARGV[6], state = 'failed', ids = out }))
end
if #batch_order > 0 then
  batch_apply(gp, now)
  batch_publish(ARGV[4], ARGV[5])
end
return out
