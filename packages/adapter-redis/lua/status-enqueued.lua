--[[ status-enqueued: records stored jobs (status store for backends that keep no state).
  KEYS[1..n] status hashes, one per job ("{<prefix>}:s:<id>")
  ARGV[1] status channel ("" for none), ARGV[2] key prefix ("{<prefix>}:s:")
  ARGV[3..] six per key, in KEYS order: job class, queue, priority, executions, runAt ms, enqueuedAt ms
  Returns the number of jobs recorded; their ids are published on the channel as {"ids": [...]}.

  A job is queued, or scheduled while its runAt is later than the server's clock. A job
  enqueued again (a dead job moved back) starts afresh: the hash is replaced, which also drops
  its lease and the expiry it had as a finished job.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local skip = #ARGV[2] + 1
local ids = {}
for i, key in ipairs(KEYS) do
  local a = 2 + (i - 1) * 6
  local run_at = tonumber(ARGV[a + 5])
  local state = 'queued'
  if run_at > now then state = 'scheduled' end
  redis.call('DEL', key)
  redis.call('HSET', key, 'job', ARGV[a + 1], 'queue', ARGV[a + 2], 'priority', ARGV[a + 3], 'state', state,
    'exe', ARGV[a + 4], 'run', ARGV[a + 5], 'enq', ARGV[a + 6], 'upd', now)
  ids[#ids + 1] = string.sub(key, skip)
end
if ARGV[1] ~= '' and #ids > 0 then redis.call('PUBLISH', ARGV[1], cjson.encode({ ids = ids })) end
return #KEYS
