--[[ status-started: records deliveries of jobs to workers.
  KEYS[1..n] status hashes, one per delivery
  ARGV[1] ttl ms of a hash that holds only a lease, ARGV[2] status channel ("" for none),
  ARGV[3] key prefix ("{<prefix>}:s:"), ARGV[4..] the lease token per key, in KEYS order
  Returns the number of live jobs marked running; their ids are published on the channel as
  {"ids": [...]} (a lease alone changes no status anyone reads).

  A live job (recorded, not finished) becomes running with one more execution. Whatever the
  job's state, the delivery's lease becomes the current one: a duplicate delivery of a finished
  job, or of one this store never saw, must still be able to settle (on SQS, to delete its
  message), and the delivery before it is stale from now on. A hash that holds only a lease
  expires like a finished status, so deliveries nobody settles do not pile up.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local started = {}
local skip = #ARGV[3] + 1
for i, key in ipairs(KEYS) do
  local f = redis.call('HMGET', key, 'state', 'fin')
  if f[1] and not f[2] then
    redis.call('HSET', key, 'state', 'running', 'sta', now, 'upd', now)
    redis.call('HINCRBY', key, 'exe', 1)
    started[#started + 1] = string.sub(key, skip)
  end
  redis.call('HSET', key, 'tok', ARGV[i + 3])
  if not f[1] then redis.call('PEXPIRE', key, ARGV[1]) end
end
if ARGV[2] ~= '' and #started > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = started })) end
return #started
