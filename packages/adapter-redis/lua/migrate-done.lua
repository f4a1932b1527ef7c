--[[ migrate-done: splits a queue's layout-3 `done` list (succeeded and failed jobs) into
  `done` (succeeded) and `failed` (layout 4), a batch at a time, oldest first.
  KEYS[1] done, KEYS[2] failed, KEYS[3] done4 (the succeeded ones while the split runs),
  KEYS[4] split (set once the queue is split)
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] most ids moved per call
  Returns the number of ids moved; 0 once the queue is split (then nothing is done).

  Each call pops the oldest ids of `done`: a failed job's id goes to the tail of `failed`,
  any other (succeeded, or a record retention has not reached yet) to the tail of `done4`.
  When `done` is empty, `done4` becomes `done` and `split` is set, in the same call. Each call
  is atomic and pops before it pushes, so two processes splitting at once move each id once
  and keep the order; a process that finds `split` set stops.
]]
--!include job-lib.lua
if redis.call('EXISTS', KEYS[4]) == 1 then return 0 end
local popped = redis.call('LPOP', KEYS[1], tonumber(ARGV[2])) or {}
for _, id in ipairs(popped) do
  local rec = job_get(ARGV[1], id)
  if rec and rec.s == 'failed' then
    redis.call('RPUSH', KEYS[2], id)
  else
    redis.call('RPUSH', KEYS[3], id)
  end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  if redis.call('EXISTS', KEYS[3]) == 1 then redis.call('RENAME', KEYS[3], KEYS[1]) end
  redis.call('SET', KEYS[4], '1')
  -- The last batch counts as moved; the next call finds `split` and answers 0.
  return math.max(#popped, 1)
end
return #popped
