--[[ list-jobs: a page of one queue's jobs in one state, for listJobs (list-jobs.ts).
  KEYS[1] prios (job-lib.lua), KEYS[2] scheduled, KEYS[3] retrying, KEYS[4] active,
  KEYS[5] dead, KEYS[6] done, KEYS[7] failed, KEYS[8] parked, KEYS[9] deferred (keys.ts)
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] state, ARGV[3] limit, ARGV[4] budget
  (most entries looked at), ARGV[5] job class ('' for any), ARGV[10] '1' to give the
  records' fields (else '' in their place), ARGV[11] most ms to walk (checked after each
  chunk of entries, list-lib.lua)
  ARGV[6..9] where to go on from ('' for the start), by state:
    queued     phase (0 ready lists, 1 due scheduled, 2 deferred, 3 parked); phase 0:
               priority, id, index; else score, id
    scheduled, retrying, dead   score, id
    running    id
    succeeded, failed   id, index, bound (ms: entries finished later are left out; '' for
               the start, which takes the server's time); the frontier adds the finish
               time of its entry ('' when unknown)
  Returns { ended (1 or 0), frontier (four fields, as ARGV[6..9]), entries (flat: id, sort
  key, index in its list or '', the record's fields as job_fields spells them out, or ''),
  entries looked at }. Ended: the queue has no more
  entries of the state after the last one given; else the next call goes on from the
  frontier (the last entry looked at).

  Orders (list-lib.lua walks them):
    queued     the ready lists by priority, each from its head (as reserve takes them); then
               scheduled jobs whose time came that no reserve promoted yet, by runAt; then jobs
               deferred by a rate limit, by when they may start; then jobs parked by a
               concurrency limit, by priority
    scheduled, retrying   by runAt, then id; scheduled only those not due yet
    dead       by time of death, newest first, then id descending
    running    by id (UUIDv7: oldest enqueued first); the active set is read whole and sorted:
               it holds only the leased jobs
    succeeded, failed   the finished lists from their tail: newest first
]]
--!include job-lib.lua
--!include list-lib.lua
local jobs, state = ARGV[1], ARGV[2]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local sc = { limit = tonumber(ARGV[3]), budget = tonumber(ARGV[4]), job = ARGV[5], fields = ARGV[10] == '1', spent = 0, out = {},
  until_us = tonumber(t[1]) * 1000000 + tonumber(t[2]) + tonumber(ARGV[11]) * 1000 }
local a, b, c, d = ARGV[6], ARGV[7], ARGV[8], ARGV[9]

if state == 'queued' then
  local phase = tonumber(a) or 0
  if phase == 0 then
    local from = tonumber(b)
    local prios
    if from then prios = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf') else prios = redis.call('ZRANGE', KEYS[1], 0, -1) end
    for _, p in ipairs(prios) do
      local id, hint = '', -1
      if from and tonumber(p) == from then id, hint = c, tonumber(d) or -1 end
      local ended, fid, fat = ls_list(ready_list(KEYS[1], p), jobs, false, id, hint, nil, sc)
      if not ended then return { 0, { '0', p, fid, fat }, sc.out, sc.spent } end
    end
    phase, b, c = 1, '', ''
  end
  local sets = { KEYS[2], KEYS[9], KEYS[8] }
  while phase <= 3 do
    local max = nil
    if phase == 1 then max = now end
    local ended, fs, fid = ls_zset(sets[phase], jobs, false, b, c, nil, max, sc)
    if not ended then return { 0, { tostring(phase), fs, fid, '' }, sc.out, sc.spent } end
    phase, b, c = phase + 1, '', ''
  end
  return { 1, { '4', '', '', '' }, sc.out, sc.spent }
end

if state == 'scheduled' or state == 'retrying' or state == 'dead' then
  local key = KEYS[3]
  if state == 'scheduled' then key = KEYS[2] elseif state == 'dead' then key = KEYS[5] end
  local skip_to = nil
  if state == 'scheduled' then skip_to = now end
  local ended, fs, fid = ls_zset(key, jobs, state == 'dead', a, b, skip_to, nil, sc)
  return { ended and 1 or 0, { fs, fid, '', '' }, sc.out, sc.spent }
end

if state == 'running' then
  local ids = redis.call('ZRANGE', KEYS[4], 0, -1)
  local after = {}
  for _, id in ipairs(ids) do
    if a == '' or id > a then after[#after + 1] = id end
  end
  table.sort(after)
  local fid = a
  for i, id in ipairs(after) do
    sc.spent = sc.spent + 1
    fid = id
    local rec = ls_record(jobs, id, sc.job, sc.fields)
    if rec then ls_give(sc, id, id, '', rec) end
    if i % 200 == 0 then ls_clock(sc) end
    if ls_full(sc) then return { i == #after and 1 or 0, { fid, '', '', '' }, sc.out, sc.spent } end
  end
  return { 1, { fid, '', '', '' }, sc.out, sc.spent }
end

-- succeeded, failed
local key = KEYS[6]
if state == 'failed' then key = KEYS[7] end
local bound = tonumber(c) or now
local ended, fid, fat, fin = ls_list(key, jobs, true, a, tonumber(b) or -1, bound, sc)
return { ended and 1 or 0, { fid, tostring(fat), tostring(bound), tostring(fin) }, sc.out, sc.spent }
