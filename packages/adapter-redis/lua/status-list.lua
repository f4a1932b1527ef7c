--[[ status-list: a page of one state's jobs from the status store's indexes (status-index-lib.lua).
  KEYS[1] the index pairs set ("{<prefix>}:i:pairs")
  ARGV[1] key head "{<prefix>}:", ARGV[2] state, ARGV[3] queue ("" any), ARGV[4] job class ("" any),
  ARGV[5] limit, ARGV[6] cursor queue (queued only; "" none), ARGV[7] cursor score ("" for the
  start), ARGV[8] cursor id, ARGV[9] ttl ms of the state's finished statuses (deadTtlMs for dead)
  Returns { more (1 when a job follows the page), { { id, score, queue, { status hash, flat } }, ... } }.

  Order: queued by queue name, then runAt, then id; scheduled, retrying by runAt, then id;
  running by id; succeeded, failed, dead by finish time, newest first, then id descending. A
  scheduled job whose time has come lists as queued (as a status read shows it), so queued
  merges each queue's queued and due scheduled entries, and scheduled starts after now.
  Finished entries older than the ttl (their hashes expired) are left out.

  Each (queue, class) zset that matches the filters gives at most limit + 1 entries after the
  cursor (found by rank: the cursor's own entry when it is still there, else a binary search
  among the entries of its score); the merge keeps the first limit + 1. So a page costs
  (zsets matching) × (log n + limit), whatever the filter: a class with 1 % of the jobs is as
  quick to list as one with 60 %.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P, state, fq, fj = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local limit = tonumber(ARGV[5])
local cq, cs, cid = ARGV[6], ARGV[7], ARGV[8]
local finished = state == 'succeeded' or state == 'failed' or state == 'dead'
local floor = now - tonumber(ARGV[9])

local function key(st, queue, job) return P .. 'i:' .. st .. ':' .. queue .. ':' .. job end

-- The rank (in the walk's direction) of the first entry after (score, id).
local function start(k, desc, score, id)
  if score == '' then return 0 end
  local s = tonumber(score)
  local rank
  if desc then rank = redis.call('ZREVRANK', k, id) else rank = redis.call('ZRANK', k, id) end
  if rank and tonumber(redis.call('ZSCORE', k, id)) == s then return rank + 1 end
  local lo, hi
  if desc then
    lo = redis.call('ZCOUNT', k, '(' .. score, '+inf')
    hi = redis.call('ZCOUNT', k, score, '+inf')
  else
    lo = redis.call('ZCOUNT', k, '-inf', '(' .. score)
    hi = redis.call('ZCOUNT', k, '-inf', score)
  end
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    local member
    if desc then member = redis.call('ZREVRANGE', k, mid, mid)[1] else member = redis.call('ZRANGE', k, mid, mid)[1] end
    if (desc and member < id) or (not desc and member > id) then hi = mid else lo = mid + 1 end
  end
  return lo
end

-- Up to n entries of zset k after the cursor, ascending (or descending), above `above`
-- (exclusive; nil for none) and up to `upto` (inclusive; nil for none), into `out`.
local function take(k, desc, score, id, above, upto, n, queue, out)
  local rank = start(k, desc, score, id)
  if not desc and above then rank = math.max(rank, redis.call('ZCOUNT', k, '-inf', above)) end
  local chunk
  if desc then chunk = redis.call('ZREVRANGE', k, rank, rank + n - 1, 'WITHSCORES')
  else chunk = redis.call('ZRANGE', k, rank, rank + n - 1, 'WITHSCORES') end
  for i = 1, #chunk, 2 do
    local s = tonumber(chunk[i + 1])
    if upto and s > upto then break end
    if desc and above and s <= above then break end
    out[#out + 1] = { s, chunk[i], queue }
  end
end

local function before(a, b)
  if a[1] ~= b[1] then return a[1] < b[1] end
  return a[2] < b[2]
end
local function after(a, b) return before(b, a) end

-- The (queue, class) pairs the filters keep, and their queues in name order.
local pairs_by_queue, queues = {}, {}
for _, pair in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local nl = string.find(pair, '\n', 1, true)
  local queue, job = string.sub(pair, 1, nl - 1), string.sub(pair, nl + 1)
  if (fq == '' or queue == fq) and (fj == '' or job == fj) then
    if not pairs_by_queue[queue] then
      pairs_by_queue[queue] = {}
      queues[#queues + 1] = queue
    end
    local list = pairs_by_queue[queue]
    list[#list + 1] = job
  end
end
table.sort(queues)

local want = limit + 1
local found = {}
if state == 'queued' then
  for _, queue in ipairs(queues) do
    if cq == '' or queue >= cq then
      local s, id = '', ''
      if queue == cq then s, id = cs, cid end
      local here = {}
      for _, job in ipairs(pairs_by_queue[queue]) do
        take(key('queued', queue, job), false, s, id, nil, nil, want - #found, queue, here)
        take(key('scheduled', queue, job), false, s, id, nil, now, want - #found, queue, here)
      end
      table.sort(here, before)
      for i = 1, math.min(#here, want - #found) do found[#found + 1] = here[i] end
      if #found >= want then break end
    end
  end
else
  local all = {}
  for _, queue in ipairs(queues) do
    for _, job in ipairs(pairs_by_queue[queue]) do
      local k = key(state, queue, job)
      if finished then take(k, true, cs, cid, floor, nil, want, queue, all)
      elseif state == 'scheduled' then take(k, false, cs, cid, now, nil, want, queue, all)
      else take(k, false, cs, cid, nil, nil, want, queue, all) end
    end
  end
  if finished then table.sort(all, after) else table.sort(all, before) end
  for i = 1, math.min(#all, want) do found[i] = all[i] end
end

local more = 0
if #found > limit then more = 1 end
local out = {}
for i = 1, math.min(#found, limit) do
  local e = found[i]
  out[#out + 1] = { e[2], string.format('%d', e[1]), e[3], redis.call('HGETALL', P .. 's:' .. e[2]) }
end
return { more, out }
