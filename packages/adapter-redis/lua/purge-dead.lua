--[[ purge-dead: deletes dead jobs of one queue for good.
  KEYS[1] dead
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] status channel ("" for none), ARGV[3] queue name, ARGV[4..] ids
  Returns the number deleted (ids not in the dead set are skipped); they are published on
  the status channel as 'purged' (their status reads as unknown from now on).
]]
local deleted = {}
for i = 4, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('HDEL', ARGV[1], ARGV[i])
    deleted[#deleted + 1] = ARGV[i]
  end
end
if ARGV[2] ~= '' and #deleted > 0 then
  redis.call('PUBLISH', ARGV[2], cjson.encode({ queue = ARGV[3], state = 'purged', ids = deleted }))
end
return #deleted
