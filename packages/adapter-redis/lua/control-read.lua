--[[ control-read: what listQueues reads of the operator's keys (control.ts), in one call on
  their slot: the paused queues and, when asked, the finished counts of a run of minutes.
  KEYS[1] paused (set of queue names; keys.ts)
  ARGV[1] what the throughput keys start with ("<...>:tput:"), ARGV[2] the first minute (UTC
  minutes since the epoch), ARGV[3] how many minutes (0: none)
  Returns { paused queue names, { fields of minute 1 (flat: "s:<queue>", count, ...), ... } },
  one entry per minute, empty for a minute without counts.

  One HGETALL per minute: 1,440 at most (a day), each as small as the number of queues that
  finished jobs in that minute.
]]
local out = {}
local first, minutes = tonumber(ARGV[2]), tonumber(ARGV[3])
for m = 0, minutes - 1 do
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. string.format('%d', first + m))
end
return { redis.call('SMEMBERS', KEYS[1]), out }
