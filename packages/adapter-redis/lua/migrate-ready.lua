--[[ migrate-ready: moves a queue's layout-1 ready zset (id -> score) into its ready lists,
  and its finished zset (id -> finish ms) into its `done` list.
  KEYS[1] the old `ready` zset ("<prefix>:{q}:ready"), KEYS[2] prios (job-lib.lua)
  KEYS[3] the old `finished` zset, KEYS[4] done
  ARGV[1] most ids moved per call and zset
  Returns the number moved (0: both old zsets are gone).

  Lowest scores first, each to the tail of its priority's list, so the old order holds: the
  score was (priority + 2^20) * 2^32 + arrival. ZPOPMIN takes each id once, so two
  processes migrating at once move each id once.
]]
--!include job-lib.lua
local popped = redis.call('ZPOPMIN', KEYS[1], tonumber(ARGV[1]))
for i = 1, #popped, 2 do
  local p = math.floor(tonumber(popped[i + 1]) / 4294967296) - 1048576
  ready_push(KEYS[2], popped[i], p)
end
-- Finished jobs: oldest first, to the tail, as settle.lua appends them.
local finished = redis.call('ZPOPMIN', KEYS[3], tonumber(ARGV[1]))
for i = 1, #finished, 2 do redis.call('RPUSH', KEYS[4], finished[i]) end
return (#popped + #finished) / 2
