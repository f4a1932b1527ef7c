--[[ flow-sweep: the safety sweep of concurrency keys, run by the periodic upkeep.
  KEYS[1] parked-keys  set  concurrency keys with parked jobs ("<prefix>:parked-keys")
  ARGV[1] global prefix ("<prefix>:"), ARGV[2] most keys looked at, ARGV[3] most jobs un-parked
  Returns the number of jobs un-parked.

  Settles and lease expiries un-park a job each time a slot frees; this sweep makes progress
  even when that step never ran for a holder (its queue has no worker left to notice its
  expired lease). For up to ARGV[2] keys picked at random, it un-parks up to
  (limit - live holders) parked jobs, the limit being the one the oldest parked job carries;
  ARGV[3] bounds a pass. A key whose list is empty leaves the set.
]]
--!include flow-lib.lua
local gp = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local budget = tonumber(ARGV[3])
local wakes = {}
local moved = 0
for _, ck in ipairs(redis.call('SRANDMEMBER', KEYS[1], tonumber(ARGV[2]))) do
  if budget <= moved then break end
  local head = redis.call('LINDEX', gp .. 'parked:' .. ck, 0)
  if not head then
    redis.call('SREM', KEYS[1], ck)
  else
    local e = cjson.decode(head)
    local packed = redis.call('HGET', flow_queue_key(gp, e[1], 'jobs'), e[2])
    local limit = packed and cmsgpack.unpack(packed).cl
    -- A head whose job is gone (deleted by hand) is dropped by un-parking one (flow_unpark
    -- skips it); whatever comes back is checked again at reserve.
    local room = 1
    if limit then room = tonumber(limit) - flow_live_slots(gp, ck, now) end
    room = math.min(room, budget - moved)
    if room > 0 then moved = moved + flow_unpark(gp, ck, room, wakes) end
  end
end
flow_wake(gp .. 'wake', wakes)
return moved
