--[[ status-enqueued: records stored jobs (status store for backends that keep no state).
  KEYS[1..n] status hashes, one per job ("{<prefix>}:s:<id>")
  ARGV[1] status channel ("" for none), ARGV[2] key prefix ("{<prefix>}:s:")
  ARGV[3..] eight per key, in KEYS order: job class, queue, priority, executions, runAt ms,
    enqueuedAt ms, body (the payload text the message carries), batch id ("" for none; a
    batch's callback has none: it is not counted)
  Returns the number of jobs recorded; their ids are published on the channel as {"ids": [...]}.
  A batch id the store does not hold fails the call before anything is written, naming it.
  A job of a batch is counted into it (status-batch-lib.lua: once per job).

  A job is queued, or scheduled while its runAt is later than the server's clock. A job
  enqueued again (a dead job moved back) starts afresh: the hash is replaced, which also drops
  its lease and the expiry it had as a finished job, and its index entry moves.
]]
--!include status-index-lib.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local skip = #ARGV[2] + 1
local P = string.sub(ARGV[2], 1, -3)
--!include status-batch-lib.lua
for i = 1, #KEYS do
  local bid = ARGV[2 + i * 8]
  if bid ~= '' and redis.call('EXISTS', batch_key(bid)) == 0 then
    return redis.error_reply('ERR errand: unknown batch ' .. bid .. ' (not opened, or expired)')
  end
end
local ids = {}
for i, key in ipairs(KEYS) do
  local a = 2 + (i - 1) * 8
  local id = string.sub(key, skip)
  local run_at = tonumber(ARGV[a + 5])
  local state = 'queued'
  if run_at > now then state = 'scheduled' end
  local old = redis.call('HMGET', key, 'state', 'queue', 'job')
  ix_drop(P, old[1], old[2], old[3], id)
  redis.call('DEL', key)
  redis.call('HSET', key, 'job', ARGV[a + 1], 'queue', ARGV[a + 2], 'priority', ARGV[a + 3], 'state', state,
    'exe', ARGV[a + 4], 'run', ARGV[a + 5], 'enq', ARGV[a + 6], 'upd', now, 'body', ARGV[a + 7])
  if ARGV[a + 8] ~= '' then
    redis.call('HSET', key, 'bat', ARGV[a + 8])
    batch_enqueued(ARGV[a + 8], id)
  end
  ix_add(P, state, ARGV[a + 2], ARGV[a + 1], id, run_at, now, nil, true)
  ids[#ids + 1] = id
end
batch_flush()
if ARGV[1] ~= '' and #ids > 0 then redis.call('PUBLISH', ARGV[1], cjson.encode({ ids = ids })) end
return #KEYS
