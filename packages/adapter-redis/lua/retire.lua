--[[ retire: removes a leased job from its queue after its retry was stored in another queue
  (a retry rule with `queue`). Keys of two queues live in different cluster slots, so the
  move is two steps: the job is first enqueued in the new queue (same id), then retired
  here. A crash between them leaves it in both: it may run twice, never zero times.
  KEYS[1] active
  ARGV[1] job key prefix, ARGV[2] id, ARGV[3] lease token, ARGV[4] global prefix ("<prefix>:")
  Returns 1 when the lease was still held and the job was removed, else 0.

  A job holding a concurrency slot lets go of it (one parked job of its key is un-parked,
  flow-lib.lua); its unique lock stays: the copy in the new queue holds it now.
]]
--!include flow-lib.lua
local key = ARGV[1] .. ARGV[2]
local held = redis.call('HMGET', key, 'tok', 'state', 'ck')
if held[1] == ARGV[3] and held[2] == 'running' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('UNLINK', key)
  if held[3] then
    local wakes = {}
    flow_free_slot(ARGV[4], held[3], ARGV[2], wakes)
    flow_wake(ARGV[4] .. 'wake', wakes)
  end
  return 1
end
return 0
