--[[ status-flow-acquire: decides received deliveries with flow.concurrency / flow.rateLimit (StatusStoreFlow.acquire).
  ARGV[1] key head "{<prefix>}:", ARGV[2] status channel ("" for none)
  ARGV[3..] 11 per delivery: id, lease, leaseMs, message id, queue, body,
    concurrency key ("" none), limit, rate key ("" none), limit, perMs
  Returns per delivery { "l" } leased, { "p" } parked, or { "d", until ms } deferred.

  A copy of a parked job's message (the same message seen again, or a second send of the job
  while it is parked) is "p": the caller deletes it. Then the rate window (trimmed to perMs)
  must have room, then the slots (ended leases pruned; a job holding a slot already keeps
  it). Only a leased delivery records anything: its start and its slot until now + leaseMs.
  A parked job's status reads queued (a due retry's too); its body waits in the key's FIFO.
  Parked jobs are counted per queue, deferred ones kept per queue until their time (counts).
  A parked job's index entry moves with its status (status-index-lib.lua).
]]
--!include status-index-lib.lua
local out, changed = {}, {}
for i = 0, (#ARGV - 2) / 11 - 1 do
  local a = 2 + i * 11
  local id, msg, ckey, rkey = ARGV[a + 1], ARGV[a + 4], ARGV[a + 7], ARGV[a + 9]
  local sk = S .. id
  local decision
  if redis.call('HGET', sk, 'pmsg') == msg or redis.call('HEXISTS', F .. 'pk', id) == 1 then decision = { 'p' } end
  if not decision and rkey ~= '' then
    local w = F .. 'w:' .. rkey
    local per = tonumber(ARGV[a + 11])
    redis.call('ZREMRANGEBYSCORE', w, '-inf', now - per)
    if redis.call('ZCARD', w) >= tonumber(ARGV[a + 10]) then
      local oldest = redis.call('ZRANGE', w, 0, 0, 'WITHSCORES')
      local until_ms = math.floor(tonumber(oldest[2])) + per
      decision = { 'd', tostring(until_ms) }
      redis.call('ZADD', F .. 'd:' .. ARGV[a + 5], until_ms, id)
      expire_slots(F .. 'd:' .. ARGV[a + 5])
    end
  end
  if not decision and ckey ~= '' then
    local c = F .. 'c:' .. ckey
    redis.call('ZREMRANGEBYSCORE', c, '-inf', now)
    if not redis.call('ZSCORE', c, id) and redis.call('ZCARD', c) >= tonumber(ARGV[a + 8]) then
      redis.call('RPUSH', F .. 'q:' .. ckey, id)
      redis.call('HSET', F .. 'pk', id, cjson.encode({ k = ckey, q = ARGV[a + 5], b = ARGV[a + 6] }))
      redis.call('HSET', F .. 'ck', ckey, ARGV[a + 8])
      redis.call('HINCRBY', F .. 'pc', ARGV[a + 5], 1)
      local sf = redis.call('HMGET', sk, 'state', 'queue', 'job', 'run')
      local state = sf[1]
      if state then
        redis.call('HSET', sk, 'pmsg', msg)
        if state == 'retrying' or state == 'scheduled' then
          ix_drop(P, state, sf[2], sf[3], id)
          ix_add(P, 'queued', sf[2], sf[3], id, tonumber(sf[4]), now)
          redis.call('HSET', sk, 'state', 'queued', 'upd', now)
          changed[#changed + 1] = id
        end
      end
      decision = { 'p' }
    end
  end
  if decision and decision[1] == 'p' then redis.call('ZREM', F .. 'd:' .. ARGV[a + 5], id) end
  if not decision then
    redis.call('ZREM', F .. 'd:' .. ARGV[a + 5], id)
    if ckey ~= '' then
      local c = F .. 'c:' .. ckey
      redis.call('ZADD', c, now + tonumber(ARGV[a + 3]), id)
      expire_slots(c)
    end
    if rkey ~= '' then
      local w = F .. 'w:' .. rkey
      redis.call('ZADD', w, now, id .. ':' .. now .. ':' .. i)
      redis.call('PEXPIRE', w, ARGV[a + 11])
    end
    decision = { 'l' }
  end
  out[#out + 1] = decision
end
if ARGV[2] ~= '' and #changed > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = changed })) end
return out
