--[[ list-lib: walking one of a queue's state sets in its order from a position, for
  list-jobs.lua (`--!include list-lib.lua`, after job-lib.lua). Not a command of its own.

  A walk shares one table `sc`: `limit` (most entries to give), `budget` (most entries to
  look at), `until_us` (server time, µs, after which it stops at the end of a chunk: a script
  blocks the server while it runs, and a loaded machine made 20,000 entries take 150 ms
  instead of 30), `job` (a job class, or '' for any), `fields` (whether to give the records),
  `spent` (entries looked at), `out` (flat: id, sort key, index in a list ('' in a zset),
  the record's fields as job_fields spells them out, or '' without `fields`). Without
  `fields` and a filter, a zset's or a ready list's records are not read at all: a merge of
  several queues reads only the records of the jobs it keeps (list-jobs.ts). It stops at whichever
  comes first: `limit` entries given, `budget` entries looked at, the end of the set. Each
  walk answers whether it reached the end, and its frontier: the last entry it looked at, from
  which the next call goes on. So a filter by job class that matches little looks at
  `budget` entries and answers a frontier instead of walking a 1M-entry set.

  A filter reads each entry's record; it looks for the class's MessagePack bytes (`j` and the
  packed name) in the packed record first and unpacks only those that hold them.
]]
local LS_CHUNK = 200

local ls_needle = nil
-- The record of `id` when it is of class `job` ('' for any), else nil; `true` for any entry
-- when the record is not `needed` and there is no class to check.
local function ls_record(jobs, id, job, needed)
  if job == '' and not needed then return true end
  local packed = redis.call('HGET', jobs, id)
  if not packed then return nil end
  if job ~= '' then
    if not ls_needle then ls_needle = '\161j' .. cmsgpack.pack(job) end
    if not string.find(packed, ls_needle, 1, true) then return nil end
    local rec = cmsgpack.unpack(packed)
    if rec.j ~= job then return nil end
    return rec
  end
  return cmsgpack.unpack(packed)
end

local function ls_full(sc) return #sc.out >= sc.limit * 4 or sc.spent >= sc.budget end

-- Past `until_us`, the walk's budget is spent: it stops with its frontier.
local function ls_clock(sc)
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000000 + tonumber(t[2]) >= sc.until_us then sc.budget = sc.spent end
end

local function ls_give(sc, id, key, index, rec)
  local out = sc.out
  out[#out + 1] = id
  out[#out + 1] = key
  out[#out + 1] = index
  if sc.fields then out[#out + 1] = job_fields(rec) else out[#out + 1] = '' end
end

-- The rank (in the walk's direction) of the first entry after (score, id) in `key`: the entry
-- itself when it is still there with that score, else a binary search among the entries of
-- equal score (ordered by member, as Redis orders them).
local function ls_zset_start(key, desc, score, id)
  if score == '' then return 0 end
  local s = tonumber(score)
  local rank
  if desc then rank = redis.call('ZREVRANK', key, id) else rank = redis.call('ZRANK', key, id) end
  if rank and tonumber(redis.call('ZSCORE', key, id)) == s then return rank + 1 end
  local lo, hi
  if desc then
    lo = redis.call('ZCOUNT', key, '(' .. score, '+inf')
    hi = redis.call('ZCOUNT', key, score, '+inf')
  else
    lo = redis.call('ZCOUNT', key, '-inf', '(' .. score)
    hi = redis.call('ZCOUNT', key, '-inf', score)
  end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member
    if desc then member = redis.call('ZREVRANGE', key, mid, mid)[1] else member = redis.call('ZRANGE', key, mid, mid)[1] end
    if (desc and member < id) or (not desc and member > id) then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- Walks zset `key` by score (then member), ascending or descending, after (score, id)
-- (score '' for the start), leaving out scores up to `skip_to` (ascending, nil for none) and
-- stopping before scores over `max` (nil for none). Sort key: the score.
-- Answers ended, frontier score, frontier id.
local function ls_zset(key, jobs, desc, score, id, skip_to, max, sc)
  local rank = ls_zset_start(key, desc, score, id)
  if skip_to then rank = math.max(rank, redis.call('ZCOUNT', key, '-inf', skip_to)) end
  local fs, fid = score, id
  while not ls_full(sc) do
    local n = math.min(LS_CHUNK, sc.budget - sc.spent)
    local chunk
    if desc then chunk = redis.call('ZREVRANGE', key, rank, rank + n - 1, 'WITHSCORES')
    else chunk = redis.call('ZRANGE', key, rank, rank + n - 1, 'WITHSCORES') end
    if #chunk == 0 then return true, fs, fid end
    for i = 1, #chunk, 2 do
      local member, s = chunk[i], chunk[i + 1]
      if max and tonumber(s) > max then return true, fs, fid end
      sc.spent = sc.spent + 1
      fs, fid = s, member
      local rec = ls_record(jobs, member, sc.job, sc.fields)
      if rec then ls_give(sc, member, s, '', rec) end
      if ls_full(sc) then return false, fs, fid end
    end
    rank = rank + #chunk / 2
    ls_clock(sc)
  end
  return false, fs, fid
end

-- Walks list `key` from its head (oldest first: ready lists) or from its tail (newest first:
-- finished lists), after the entry `id` ('' for the start; `hint` is where it was, checked
-- first). An entry that left the list: from the head, the walk starts over at the head (the
-- jobs before it left too, from the head end; only a job cancelled from the middle makes the
-- ones before it come again); from the tail, the walk has ended (retention took it, and every
-- older one). From the tail, entries that finished after `bound` (ms) are left out: they
-- came after the walk began. Sort key: the finish time from the tail, else the index.
-- Answers ended, frontier id, frontier index, and from the tail the frontier's finish time
-- ('' when unknown), which tells a merge of several lists how far this one got.
local function ls_list(key, jobs, from_tail, id, hint, bound, sc)
  local len = redis.call('LLEN', key)
  local at
  if id == '' then
    if from_tail then at = len - 1 else at = 0 end
  else
    local found = nil
    if hint >= 0 and hint < len and redis.call('LINDEX', key, hint) == id then found = hint
    elseif from_tail then found = redis.call('LPOS', key, id, 'RANK', -1)
    else found = redis.call('LPOS', key, id) end
    if not found then
      if from_tail then return true, id, hint, '' end
      at = 0
    elseif from_tail then at = found - 1
    else at = found + 1 end
  end
  local fid, fat, fin = id, hint, ''
  while not ls_full(sc) do
    if at < 0 or at >= len then return true, fid, fat, fin end
    local n = math.min(LS_CHUNK, sc.budget - sc.spent)
    local first, last, step = at, at + n - 1, 1
    if from_tail then first, last, step = math.max(0, at - n + 1), at, -1 end
    local chunk = redis.call('LRANGE', key, first, last)
    if #chunk == 0 then return true, fid, fat, fin end
    local i, stop = 1, #chunk
    if from_tail then i, stop = #chunk, 1 end
    while true do
      local entry = chunk[i]
      sc.spent = sc.spent + 1
      fid, fat, fin = entry, first + i - 1, ''
      local rec = ls_record(jobs, entry, sc.job, sc.fields or from_tail)
      if rec then
        if from_tail then
          local finished = rec.n + (rec.f or 0)
          fin = finished
          if finished <= bound then ls_give(sc, entry, finished, fat, rec) end
        else
          ls_give(sc, entry, fat, fat, rec)
        end
      end
      if ls_full(sc) then
        if from_tail and fin == '' then
          -- The frontier did not match the filter: its record was not unpacked yet.
          local packed = redis.call('HGET', jobs, fid)
          if packed then
            local f = cmsgpack.unpack(packed)
            fin = f.n + (f.f or 0)
          end
        end
        return false, fid, fat, fin
      end
      if i == stop then break end
      i = i + step
    end
    at = at + step * #chunk
    ls_clock(sc)
  end
  return false, fid, fat, fin
end
