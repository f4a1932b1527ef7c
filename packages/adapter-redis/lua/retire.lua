--[[ retire: removes a leased job from its queue after its retry was stored in another queue
  (a retry rule with `queue`). Keys of two queues live in different cluster slots, so the
  move is two steps: the job is first enqueued in the new queue (same id), then retired
  here. A crash between them leaves it in both: it may run twice, never zero times.
  KEYS[1] active
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] id, ARGV[3] lease token, ARGV[4] global prefix ("<prefix>:")
  Returns 1 when the lease was still held and the job was removed, else 0.

  A job holding a concurrency slot lets go of it (one parked job of its key is un-parked,
  flow-lib.lua); its unique lock stays: the copy in the new queue holds it now. A job of a
  batch (`bt`, batch-lib.lua) counts its failed run here (`fail` +1), as settle counts a
  retry: the copy was stored without counting.
]]
--!include flow-lib.lua
--!include job-lib.lua
local rec = job_get(ARGV[1], ARGV[2])
if rec and rec.t == ARGV[3] and rec.s == 'running' then
  redis.call('ZREM', KEYS[1], ARGV[2])
  redis.call('HDEL', ARGV[1], ARGV[2])
  if rec.bt then
    local batch = ARGV[4] .. 'batch:' .. rec.bt
    if redis.call('EXISTS', batch) == 1 then redis.call('HINCRBY', batch, 'fail', 1) end
  end
  if rec.ck then
    local wakes = {}
    flow_free_slot(ARGV[4], rec.ck, ARGV[2], wakes)
    flow_wake(ARGV[4] .. 'wake', wakes)
  end
  return 1
end
return 0
