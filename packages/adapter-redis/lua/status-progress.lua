--[[ status-progress: records the latest progress of jobs.
  KEYS[1..n] status hashes, one per update
  ARGV[1..n] progress JSON per key ({"fraction":0.5,"message":"..."}), in KEYS order
  Returns the number of jobs updated: live ones only (a finished status keeps its last progress).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local updated = 0
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'state', 'fin')
  if f[1] and not f[2] then
    redis.call('HSET', key, 'prog', ARGV[i], 'upd', now)
    updated = updated + 1
  end
end
return updated
