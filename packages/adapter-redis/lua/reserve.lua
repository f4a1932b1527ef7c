--[[ reserve: leases up to `max` ready jobs of one queue, after upkeep.
  KEYS[1] prios (the ready lists, job-lib.lua), KEYS[2] scheduled, KEYS[3] retrying (zsets,
  see enqueue.lua and settle.lua)
  KEYS[4] active     zset  id -> lease deadline ms
  KEYS[5] deferred   zset  id -> ms when a rate limit allows its start
  KEYS[6] flow       string, set once the queue held a job with flow fields (keys.ts)
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] max, ARGV[3] lease ms, ARGV[4] lease token, ARGV[5] worker id (not stored: nothing read it)
  ARGV[6] status channel ("" for none), ARGV[7] queue name, ARGV[8] global prefix ("<prefix>:")
  Returns { next, id1, body1, deliveries1, job1, priority1, enqueuedAt1, runAt1, id2, ... }
  (the body is compact, body.ts, and the record's fields rebuild it; job is false for a
  verbatim body; a body starting with `~` is followed by its flow parts' letters and their
  fields, see below): `next` is -1 when jobs were leased,
  else the ms until the next scheduled job, retry, deferred job or lease deadline (-2 when
  there is none; 0 when ready jobs are left that this call had no room to look at), so a
  waiting reserve knows when to look again.

  Upkeep first, bounded so one call stays short: scheduled and retrying jobs that are due
  join the tail of their ready list, jobs deferred by a rate limit whose time came its head
  (state unchanged); jobs whose lease ran out (their worker died) go back to the head,
  uncounted (`exe` - 1), as a release does, and free their concurrency slot. Then
  `ready_pop` (job-lib.lua) takes the lowest priority first, FIFO within it. Every job of one
  call shares the lease token.

  Flow control (a job whose record has `ck` or `rk`, read only in a queue with the `flow` marker, so
  a queue of plain jobs pays one EXISTS per call): its rate limit
  is checked first, then its concurrency limit, and only a job both allow records anything
  (a start in the rate window, a slot). Over the rate: the job is deferred until the oldest
  start in the window leaves it. Its key full: the job is parked (flow-lib.lua). Either way
  its state, `exe` and fields stay as they were: it still reads as queued, and nothing is
  published. Jobs popped and not leased leave room, so the call pops again, up to max + BOUND
  jobs looked at in all.

  Every state change is published on the status channel (when given), one message per
  state: scheduled jobs that became due ('queued'), jobs back from an expired lease
  ('queued' or 'retrying'), and the jobs leased ('running').
]]
--!include flow-lib.lua
--!include job-lib.lua
local jobs, max, lease_ms, token, worker, gp = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], ARGV[8]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local BOUND = 1000
local flowing = redis.call('EXISTS', KEYS[6]) == 1

local function to_ready(id, rec)
  ready_push(KEYS[1], id, rec.p)
end

local changed = { queued = {}, retrying = {} }

local function promote(zset, state)
  local ids = redis.call('ZRANGEBYSCORE', zset, '-inf', now, 'LIMIT', 0, BOUND)
  for _, id in ipairs(ids) do
    local rec = job_get(jobs, id)
    if rec then
      to_ready(id, rec)
      if state then
        rec.s, rec.u = job_state(state), now - rec.n
        local list = changed[state]
        list[#list + 1] = id
      end
      job_put(jobs, id, rec)
    end
    redis.call('ZREM', zset, id)
  end
end
promote(KEYS[2], 'queued')
promote(KEYS[3], nil)

-- Deferred jobs whose start is allowed now go back to the head of their list.
local allowed = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, BOUND)
for _, id in ipairs(allowed) do
  local rec = job_get(jobs, id)
  if rec then ready_push(KEYS[1], id, rec.p, true) end
  redis.call('ZREM', KEYS[5], id)
end

local wakes = {}
local expired = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now, 'LIMIT', 0, BOUND)
for _, id in ipairs(expired) do
  local rec = job_get(jobs, id)
  if rec then
    local state = rec.o and 'retrying' or 'queued'
    ready_push(KEYS[1], id, rec.p, true)
    rec.s, rec.u, rec.t = job_state(state), now - rec.n, nil
    rec.e = (rec.e or 0) - 1
    if rec.e == 0 then rec.e = nil end
    job_put(jobs, id, rec)
    local list = changed[state]
    list[#list + 1] = id
    if flowing and rec.ck then flow_free_slot(gp, rec.ck, id, wakes) end
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

-- Whether the popped job `id` may start; if not, it is parked or deferred here. Records its
-- start (rate window, slot) when it may. `f` is the job's record: its limits come with its
-- body, one read per job.
-- Counting is lazy: the window's or the slots' ZCARD is an upper bound of what counts (it
-- includes starts older than the window, holders whose lease ran out), so below the limit it
-- admits exactly as the pruned count would; only at the limit are they pruned and counted
-- again. Same decisions, and a window or slot set still never holds more than `limit` entries
-- (it grows only while below it); idle windows still expire (PEXPIRE). Before: ZREMRANGEBYSCORE
-- and ZCARD per start (bench/flow, drain of 20k, 1,000 keys: 3 → 2 commands per concurrency
-- start, 4 → 3 per rate-limited one).
-- A key's count is read once per call and kept in `counts` (each ZADD's reply adds what it
-- added; a prune at `now` is done once: `pruned`), and a window's PEXPIRE is sent once per
-- call, at the end, with the perMs of its last start (the script's clock stands still, so the
-- deadline is the same): per call and key, one ZCARD and one PEXPIRE instead of one per start.
-- It changes nothing when every job of a call has a key of its own (the bench's 1,000 keys);
-- with 10 keys, a rate-limited start goes from 3 commands to ~1 (bench/flow/README.md).
local counts, pruned, windows = {}, {}, {}
local function live(key, limit, cutoff)
  local count = counts[key]
  if count == nil then count = redis.call('ZCARD', key) end
  if count >= limit and not pruned[key] then
    count = count - redis.call('ZREMRANGEBYSCORE', key, '-inf', cutoff)
    pruned[key] = true
  end
  counts[key] = count
  return count
end

local function admit(id, f)
  local ck, rk = f.ck, f.rk
  local window, slots, per
  if rk then
    per = tonumber(f.rp)
    window = gp .. 'rate:' .. rk
    if live(window, tonumber(f.rl), now - per) >= tonumber(f.rl) then
      -- The oldest start left in the window (every start is at or before `now`).
      local oldest = redis.call('ZRANGE', window, 0, 0, 'WITHSCORES')
      redis.call('ZADD', KEYS[5], (tonumber(oldest[2]) or now) + per, id)
      return false
    end
  end
  if ck then
    slots = gp .. 'slots:' .. ck
    if live(slots, tonumber(f.cl), now) >= tonumber(f.cl) then
      flow_park(gp, ARGV[7], id, ck, f.p or 0)
      return false
    end
  end
  if window then
    counts[window] = counts[window] + redis.call('ZADD', window, now, id .. ' ' .. token)
    windows[window] = per
  end
  if slots then counts[slots] = counts[slots] + redis.call('ZADD', slots, deadline, id) end
  return true
end

local looked, look_bound = 0, max + BOUND
while #leased < max and looked < look_bound do
  local want = math.min(max - #leased, look_bound - looked)
  local popped = ready_pop(KEYS[1], want)
  looked = looked + want
  for i = 1, #popped do
    local id = popped[i]
    local rec = job_get(jobs, id)
    -- A job with a concurrency or rate key is admitted; others (unique only) need nothing.
    if rec and (not flowing or (not rec.ck and not rec.rk) or admit(id, rec)) then
      local exe = (rec.e or 0) + 1
      rec.e, rec.s, rec.t, rec.a, rec.u = exe, 'running', token, now - rec.n, now - rec.n
      job_put(jobs, id, rec)
      redis.call('ZADD', KEYS[4], deadline, id)
      out[#out + 1] = id
      if rec.k then
        out[#out + 1] = rec.k
        out[#out + 1] = exe
        out[#out + 1] = rec.j
        out[#out + 1] = rec.p or 0
        out[#out + 1] = rec.n
        out[#out + 1] = rec.n + (rec.r or 0)
        -- A body without its `flow` (layout 3, body.ts): the fields that give it back, only
        -- those present, after a string of their parts' letters (u: uk uw, c: ck cl, r: rk rl rp).
        -- Seven fields each, absent ones false, cost ~5k more server instructions per job.
        if string.byte(rec.k, 1) == 126 then
          local at = #out + 1
          local parts = ''
          out[at] = ''
          if rec.uk then
            parts = 'u'
            out[#out + 1] = rec.uk
            out[#out + 1] = rec.uw
          end
          if rec.ck then
            parts = parts .. 'c'
            out[#out + 1] = rec.ck
            out[#out + 1] = rec.cl
          end
          if rec.rk then
            parts = parts .. 'r'
            out[#out + 1] = rec.rk
            out[#out + 1] = rec.rl
            out[#out + 1] = rec.rp
          end
          out[at] = parts
        end
      else
        out[#out + 1] = rec.b
        out[#out + 1] = exe
        out[#out + 1] = false
        out[#out + 1] = false
        out[#out + 1] = false
        out[#out + 1] = false
      end
      leased[#leased + 1] = id
    end
  end
  -- Fewer than asked: the ready set is empty.
  if #popped < want then break end
end
for window, per in pairs(windows) do redis.call('PEXPIRE', window, per) end
flow_wake(gp .. 'wake', wakes)

if #leased == 0 then
  local next = -2
  if redis.call('EXISTS', KEYS[1]) == 1 then
    next = 0
  else
    for _, k in ipairs({ 2, 3, 4, 5 }) do
      local first = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
      if first[2] then
        local wait = math.max(0, tonumber(first[2]) - now)
        if next == -2 or wait < next then next = wait end
      end
    end
  end
  out[1] = next
elseif ARGV[6] ~= '' then
  redis.call('PUBLISH', ARGV[6], cjson.encode({ queue = ARGV[7], state = 'running', ids = leased }))
end
return out
