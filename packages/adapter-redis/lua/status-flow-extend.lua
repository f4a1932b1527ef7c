--[[ status-flow-extend: pushes running jobs' slots to now + leaseMs (StatusStoreFlow.extend).
  ARGV[1] key head "{<prefix>}:", ARGV[2] leaseMs, ARGV[3..] pairs: id, concurrency key
  Returns the ids whose slot was lost: it ended (its end ≤ now, as acquire prunes them, so
  another job may hold it now) or was freed. Such a slot is not taken again: a late renewal
  must not bring its key above the limit; the adapter reports the lease lost.
]]
local lost = {}
for i = 3, #ARGV, 2 do
  local c = F .. 'c:' .. ARGV[i + 1]
  local ends = redis.call('ZSCORE', c, ARGV[i])
  if ends and tonumber(ends) > now then
    redis.call('ZADD', c, 'XX', now + tonumber(ARGV[2]), ARGV[i])
    expire_slots(c)
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
