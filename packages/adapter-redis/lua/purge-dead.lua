--[[ purge-dead: deletes dead jobs of one queue for good.
  KEYS[1] dead
  ARGV[1] job key prefix, ARGV[2..] ids
  Returns the number deleted (ids not in the dead set are skipped).
]]
local deleted = 0
for i = 2, #ARGV do
  if redis.call('ZREM', KEYS[1], ARGV[i]) == 1 then
    redis.call('UNLINK', ARGV[1] .. ARGV[i])
    deleted = deleted + 1
  end
end
return deleted
