--[[ status-stale: which deliveries no longer hold their job.
  KEYS[1..n] status hashes, one per delivery
  ARGV[1..n] the delivery's lease token per key, in KEYS order
  Returns the 1-based positions of the stale deliveries.

  Stale: the job's current lease is another one (it was delivered again since), or it has no
  lease and is finished (settled already). A job the store does not know counts as current:
  its status may have expired, or been written before the store was in use.
]]
local stale = {}
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'tok', 'state', 'fin')
  if f[1] then
    if f[1] ~= ARGV[i] then stale[#stale + 1] = i end
  elseif f[2] and f[3] then
    stale[#stale + 1] = i
  end
end
return stale
