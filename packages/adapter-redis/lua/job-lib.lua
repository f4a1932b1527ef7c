--[[ job-lib: a queue's job records, shared by the scripts that include it
  (`--!include job-lib.lua`, see scripts.ts). Not a command of its own.

  Every job of a queue is one field of the queue's `jobs` hash (`<prefix>:{q}:jobs`): the
  field is the job id, the value a MessagePack map (cmsgpack) with one-letter keys, numbers
  stored as numbers, absent keys meaning their default (keys.ts lists them):

    k compact body (body.ts: the payload without what the record holds; flag + JSON)
    b verbatim body (a body stored as given: from the old layout, or written raw)
    j job class      p priority (0)   s state          e executions counted (0)
    r runAt ms (n)   n enqueuedAt ms  u updatedAt ms   c ready score
    t lease token    a startedAt ms   f finishedAt ms
    x result text    o error JSON     g progress JSON
    ck cl rk rl rp uk uw   flow fields (concurrency, rate, unique), as before

  One top-level key per job cost ~100 bytes of dict entry, robj and key name, and a body
  over `hash-max-listpack-value` (64 bytes) turned each job's hash into a `hashtable`:
  1,208 bytes per queued no-op job (bench/redis/memory.ts, 100k jobs).
]]
local function job_get(jobs, id)
  local packed = redis.call('HGET', jobs, id)
  if packed then return cmsgpack.unpack(packed) end
  return nil
end

local function job_put(jobs, id, rec)
  redis.call('HSET', jobs, id, cmsgpack.pack(rec))
end

-- The record as the old layout's hash fields (names and string values), flat, for readers
-- outside Lua (lookup.ts): state, job, priority, exe, run, enq, upd, sta, fin, res, err,
-- prog, body (verbatim) or cbody (compact), score, tok and the flow fields.
local JOB_NAMES = { s = 'state', j = 'job', p = 'priority', e = 'exe', r = 'run', n = 'enq', u = 'upd', a = 'sta',
  f = 'fin', x = 'res', o = 'err', g = 'prog', b = 'body', k = 'cbody', c = 'score', t = 'tok',
  ck = 'ck', cl = 'cl', rk = 'rk', rl = 'rl', rp = 'rp', uk = 'uk', uw = 'uw' }
local function job_fields(rec)
  local out = { 'priority', '0', 'exe', '0', 'run', string.format('%.17g', rec.r or rec.n or 0) }
  for k, v in pairs(rec) do
    local name = JOB_NAMES[k]
    if name then
      out[#out + 1] = name
      if type(v) == 'number' then out[#out + 1] = string.format('%.17g', v) else out[#out + 1] = v end
    end
  end
  return out
end
