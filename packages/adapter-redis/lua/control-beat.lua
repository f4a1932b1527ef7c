--[[ control-beat: a worker's heartbeat (control.ts). Every key is under the operator's hash
  tag `{<prefix>:control}` (keys.ts), so a beat is one script on one slot, on a Cluster too.
  KEYS[1] workers (hash: worker id -> record JSON), KEYS[2] beats (zset: worker id -> ms when
  its record may go), KEYS[3] paused (set of queue names), KEYS[4] aborts (zset: job id -> ms
  the abort was asked), KEYS[5] abort-tokens (hash: job id -> lease token of the run to abort,
  "interrupt:<token>" for an interrupt: control-mark.lua)
  ARGV[1] what the throughput keys start with ("<...>:tput:"), ARGV[2] worker id,
  ARGV[3] its record (JSON), ARGV[4] "1" when the worker is stopping, else ""
  ARGV[5] the worker's ttl ms, ARGV[6] the beat's minute (UTC minutes since the epoch)
  ARGV[7] F, the number of finished counts, then F triples: queue, succeeded, failed;
  then the ids of the jobs the worker runs
  Returns { paused queue names, { id1, token1, id2, ... } }: the second list holds the
  running jobs an abort was asked for, with the lease token of the run it was asked for,
  which the caller checks against their records.

  The record is stored (or, stopping, removed); it may go an hour after the worker is gone
  (last beat + ttl + 1 h), which any later beat does, 100 at a time. Finished counts are added
  to the minute's hash (`s:<queue>`, `f:<queue>`), which expires 25 h after its last write:
  throughput is read for at most 1,440 minutes. Abort marks older than an hour are dropped.
]]
local HOUR = 3600000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local gone = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 100)
if #gone > 0 then
  redis.call('HDEL', KEYS[1], unpack(gone))
  redis.call('ZREM', KEYS[2], unpack(gone))
end

local worker = ARGV[2]
if ARGV[4] == '1' then
  redis.call('HDEL', KEYS[1], worker)
  redis.call('ZREM', KEYS[2], worker)
else
  redis.call('HSET', KEYS[1], worker, ARGV[3])
  redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]) + HOUR, worker)
end

local counts = tonumber(ARGV[7])
local i = 8
if counts > 0 then
  local key = ARGV[1] .. ARGV[6]
  for _ = 1, counts do
    local queue, succeeded, failed = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    if succeeded > 0 then redis.call('HINCRBY', key, 's:' .. queue, succeeded) end
    if failed > 0 then redis.call('HINCRBY', key, 'f:' .. queue, failed) end
    i = i + 3
  end
  redis.call('PEXPIRE', key, 25 * HOUR)
end

local asked = {}
if i <= #ARGV and redis.call('EXISTS', KEYS[4]) == 1 then
  local old = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now - HOUR, 'LIMIT', 0, 100)
  if #old > 0 then
    redis.call('ZREM', KEYS[4], unpack(old))
    redis.call('HDEL', KEYS[5], unpack(old))
  end
  local ids = { unpack(ARGV, i) }
  local tokens = redis.call('HMGET', KEYS[5], unpack(ids))
  for j, id in ipairs(ids) do
    if tokens[j] then
      asked[#asked + 1] = id
      asked[#asked + 1] = tokens[j]
    end
  end
end
return { redis.call('SMEMBERS', KEYS[3]), asked }
