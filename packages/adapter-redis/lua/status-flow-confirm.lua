--[[ status-flow-confirm: the backend holds these messages; their pending sends go (StatusStoreFlow.confirm).
  ARGV[1] key head "{<prefix>}:", ARGV[2..] pairs: id, token
  Returns the number of pending sends removed (an entry of another token is left alone).
]]
local removed = 0
for i = 2, #ARGV, 2 do
  local raw = redis.call('HGET', F .. 'o', ARGV[i])
  if raw and pending_token(raw) == ARGV[i + 1] then
    redis.call('HDEL', F .. 'o', ARGV[i])
    redis.call('ZREM', F .. 'oz', ARGV[i])
    removed = removed + 1
  end
end
return removed
