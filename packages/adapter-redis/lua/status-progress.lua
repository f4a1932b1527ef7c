--[[ status-progress: records the latest progress of jobs.
  KEYS[1..n] status hashes, one per update
  ARGV[1] status channel ("" for none), ARGV[2] key prefix ("{<prefix>}:s:")
  ARGV[3..] progress JSON per key ({"fraction":0.5,"message":"..."}), in KEYS order
  Returns the number of jobs updated: live ones only (a finished status keeps its last
  progress); their ids are published on the channel as {"ids": [...]}.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local updated = {}
local skip = #ARGV[2] + 1
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'state', 'fin')
  if f[1] and not f[2] then
    redis.call('HSET', key, 'prog', ARGV[i + 2], 'upd', now)
    updated[#updated + 1] = string.sub(key, skip)
  end
end
if ARGV[1] ~= '' and #updated > 0 then redis.call('PUBLISH', ARGV[1], cjson.encode({ ids = updated })) end
return #updated
