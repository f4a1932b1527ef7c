--[[ status-flow-extend: pushes running jobs' slots to now + leaseMs (StatusStoreFlow.extend).
  ARGV[1] key head "{<prefix>}:", ARGV[2] leaseMs, ARGV[3..] pairs: id, concurrency key
  Returns the number of slots extended (a slot that ended or was freed is not taken again).
]]
local extended = 0
for i = 3, #ARGV, 2 do
  local c = F .. 'c:' .. ARGV[i + 1]
  extended = extended + redis.call('ZADD', c, 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[i])
  expire_slots(c)
end
return extended
