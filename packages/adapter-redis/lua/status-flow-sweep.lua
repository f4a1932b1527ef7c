--[[ status-flow-sweep: the periodic upkeep (StatusStoreFlow.sweep).
  ARGV[1] key head "{<prefix>}:", ARGV[2] claim timeout ms, ARGV[3] most entries per part
  Returns pending sends: those taken more than the timeout ago (now taken by the caller:
  their taken time is renewed, so one process gets each), then, for up to ARGV[3] random
  keys with parked jobs, up to (limit − live slots) parked jobs let go per key.
]]
local limit = tonumber(ARGV[3])
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', F .. 'oz', '-inf', now - tonumber(ARGV[2]), 'LIMIT', 0, limit)) do
  local raw = redis.call('HGET', F .. 'o', id)
  if raw then
    redis.call('ZADD', F .. 'oz', now, id)
    pending_reply(out, id, pending_entry(raw), now)
  else
    redis.call('ZREM', F .. 'oz', id)
  end
end
local keys = redis.call('HRANDFIELD', F .. 'ck', limit, 'WITHVALUES')
local budget = limit
for i = 1, #keys, 2 do
  local c = F .. 'c:' .. keys[i]
  redis.call('ZREMRANGEBYSCORE', c, '-inf', now)
  local free = math.min(budget, tonumber(keys[i + 1]) - redis.call('ZCARD', c))
  if free > 0 then
    local before = #out
    unpark(keys[i], free, out)
    budget = budget - (#out - before)
  end
  if budget <= 0 then break end
end
return out
