--[[ status-flow-release: settled deliveries free their slots (StatusStoreFlow.release).
  ARGV[1] key head "{<prefix>}:", ARGV[2] ttl ms of a finished status,
  ARGV[3..] triples: id, concurrency key ("" none), unique key of a finished job ("" none)
  Returns the pending sends of the parked jobs let go (one per slot freed, oldest first).
  A unique lock still held by a finished job expires with its status, at the latest.
]]
local out = {}
for i = 3, #ARGV, 3 do
  local id, ckey, ukey = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  if ckey ~= '' then
    redis.call('ZREM', F .. 'c:' .. ckey, id)
    unpark(ckey, 1, out)
  end
  if ukey ~= '' then
    local lk = F .. 'u:' .. ukey
    if redis.call('HGET', lk, 'id') == id then
      local left = redis.call('PTTL', lk)
      if left < 0 or left > tonumber(ARGV[2]) then redis.call('PEXPIRE', lk, ARGV[2]) end
    end
  end
end
return out
