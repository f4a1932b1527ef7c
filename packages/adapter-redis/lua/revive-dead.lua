--[[ revive-dead: puts dead jobs of one queue back, due now, with fresh attempts.
  KEYS[1] prios (job-lib.lua), KEYS[2] dead
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] wake channel, ARGV[3] queue name
  ARGV[4] status channel ("" for none), ARGV[5] global prefix ("<prefix>:")
  ARGV[6..] pairs: id, revived compact body (body.ts; core reset its executions and runAt)
  Returns the number of jobs moved back (ids no longer dead are skipped); they are
  published on the status channel as 'queued'.

  A job of a batch (`bt`, batch-lib.lua) goes back to pending in it (dead −1, pen +1) while
  the batch still counts it dead; a finished batch then waits for it (its expiry is lifted
  until it finishes again, when a success callback not stored yet may be, batch-lib.lua).
]]
--!include job-lib.lua
local jobs = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local moved = {}
for i = 6, #ARGV, 2 do
  local id = ARGV[i]
  local rec = redis.call('ZREM', KEYS[2], id) == 1 and job_get(jobs, id)
  if rec then
    ready_push(KEYS[1], id, rec.p)
    rec.o, rec.x, rec.g, rec.f, rec.a, rec.t, rec.e, rec.b = nil, nil, nil, nil, nil, nil, nil, nil
    rec.k, rec.s, rec.r, rec.u = ARGV[i + 1], nil, now - rec.n, now - rec.n
    if rec.bt then
      local batch = ARGV[5] .. 'batch:' .. rec.bt
      local dead = tonumber(redis.call('HGET', batch, 'dead'))
      if dead and dead > 0 then
        redis.call('HINCRBY', batch, 'dead', -1)
        redis.call('HINCRBY', batch, 'pen', 1)
        redis.call('PERSIST', batch)
      end
    end
    job_put(jobs, id, rec)
    moved[#moved + 1] = id
  end
end
if #moved > 0 then
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  if ARGV[4] ~= '' then
    redis.call('PUBLISH', ARGV[4], cjson.encode({ queue = ARGV[3], state = 'queued', ids = moved }))
  end
end
return #moved
