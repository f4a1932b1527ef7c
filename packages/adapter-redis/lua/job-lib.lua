--[[ job-lib: a queue's job records, shared by the scripts that include it
  (`--!include job-lib.lua`, see scripts.ts). Not a command of its own.

  Every job of a queue is one field of the queue's `jobs` hash (`<prefix>:{q}:jobs`): the
  field is the job id, the value a MessagePack map (cmsgpack) with one-letter keys, numbers
  stored as numbers, absent keys meaning their default (keys.ts lists them):

    k compact body (body.ts: the payload without what the record holds; flag + JSON)
    b verbatim body (a body stored as given: from the old layout, or written raw)
    j job class      p priority (0)   s state (queued) e executions counted (0)
    n enqueuedAt ms  r runAt (0)      u updatedAt      a startedAt      f finishedAt
    t lease token
    (r, u, a and f are ms after n: a few ms take one byte where a time takes nine)
    x result text    o error JSON     g progress JSON
    ck cl rk rl rp uk uw   flow fields (concurrency, rate, unique), as before

  One top-level key per job cost ~100 bytes of dict entry, robj and key name, and a body
  over `hash-max-listpack-value` (64 bytes) turned each job's hash into a `hashtable`:
  1,208 bytes per queued no-op job (bench/redis/memory.ts, 100k jobs). A record is ~75 bytes
  for that job; the field (the id) and the dict entry add ~85.
]]
local function job_get(jobs, id)
  local packed = redis.call('HGET', jobs, id)
  if packed then return cmsgpack.unpack(packed) end
  return nil
end

-- The `s` to store for `state`: none for queued, the most common one.
local function job_state(state)
  if state == 'queued' then return nil end
  return state
end

local function job_put(jobs, id, rec)
  redis.call('HSET', jobs, id, cmsgpack.pack(rec))
end

-- The record as the old layout's hash fields (names and string values), flat, for readers
-- outside Lua (lookup.ts): state, job, priority, exe, run, enq, upd, sta, fin, res, err,
-- prog, body (verbatim) or cbody (compact), tok and the flow fields; times in ms.
local JOB_NAMES = { s = 'state', j = 'job', p = 'priority', e = 'exe', r = 'run', n = 'enq', u = 'upd', a = 'sta',
  f = 'fin', x = 'res', o = 'err', g = 'prog', b = 'body', k = 'cbody', t = 'tok',
  ck = 'ck', cl = 'cl', rk = 'rk', rl = 'rl', rp = 'rp', uk = 'uk', uw = 'uw' }
local JOB_AFTER_N = { r = true, u = true, a = true, f = true }
local function job_fields(rec)
  local n = rec.n or 0
  local out = { 'state', 'queued', 'priority', '0', 'exe', '0', 'run', string.format('%.17g', n) }
  for k, v in pairs(rec) do
    local name = JOB_NAMES[k]
    if name then
      out[#out + 1] = name
      if JOB_AFTER_N[k] then v = n + v end
      if type(v) == 'number' then out[#out + 1] = string.format('%.17g', v) else out[#out + 1] = v end
    end
  end
  return out
end

--[[ The ready jobs of a queue: a list per priority, `<prefix>:{q}:ready:<priority>`, FIFO,
  and the zset `<prefix>:{q}:prios` of the priorities whose list is not empty (member and
  score: the priority). A list entry costs ~40 bytes where a zset member cost ~145
  (bench/redis/memory.ts). A job put back (released, lease expired, un-parked, let through
  by a rate limit) goes to the head of its list: ahead of the jobs that arrived after it.
  `prios` holds a priority exactly while its list has jobs: pushes add it (once per script
  run, queue and priority: a script may push to several queues), a pop that empties the
  list removes it. ]]
local ready_known = {}
local function ready_list(prios, p)
  -- "<prefix>:{q}:prios" → "<prefix>:{q}:ready:<p>": the same hash tag, so the same slot.
  return string.sub(prios, 1, -6) .. 'ready:' .. p
end

local function ready_push(prios, id, p, front)
  p = p or 0
  redis.call(front and 'LPUSH' or 'RPUSH', ready_list(prios, p), id)
  local known = prios .. ' ' .. p
  if not ready_known[known] then
    redis.call('ZADD', prios, p, p)
    ready_known[known] = true
  end
end

-- Takes up to `n` ready ids, lowest priority first, FIFO within one.
local function ready_pop(prios, n)
  local out = {}
  while #out < n do
    local first = redis.call('ZRANGE', prios, 0, 0)[1]
    if not first then break end
    local list = ready_list(prios, first)
    local want = n - #out
    local got = redis.call('LPOP', list, want)
    local count = 0
    if got then
      count = #got
      for _, id in ipairs(got) do out[#out + 1] = id end
    end
    if count < want or redis.call('EXISTS', list) == 0 then
      redis.call('ZREM', prios, first)
      ready_known[prios .. ' ' .. first] = nil
    end
  end
  return out
end
