--[[ status-figures: what the status store adds to listQueues, per queue (status-index-lib.lua).
  KEYS[1] the index pairs set ("{<prefix>}:i:pairs")
  ARGV[1] key head "{<prefix>}:", ARGV[2] ttl ms of a succeeded or failed status, ARGV[3] ttl ms
  of a dead one, ARGV[4..] queue names
  Returns per queue, in order: { queued (due scheduled ones included), scheduled (not due),
  running, retrying, succeeded kept, failed kept, dead kept, runAt ms of the oldest waiting job (queued,
  or scheduled and due), or -1 when none waits }.

  Counts and the oldest entry come from the (queue, class) zsets: ZCARD, ZCOUNT within the
  retention, the first entry of each, so a queue costs a few calls per class, whatever its size.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P = ARGV[1]
local floor = '(' .. (now - tonumber(ARGV[2]))
local dead_floor = '(' .. (now - tonumber(ARGV[3]))
local jobs = {}
for _, pair in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local nl = string.find(pair, '\n', 1, true)
  local queue = string.sub(pair, 1, nl - 1)
  jobs[queue] = jobs[queue] or {}
  table.insert(jobs[queue], string.sub(pair, nl + 1))
end
local out = {}
for i = 4, #ARGV do
  local queue = ARGV[i]
  local queued, scheduled, running, retrying, succeeded, failed, dead, oldest = 0, 0, 0, 0, 0, 0, 0, -1
  for _, job in ipairs(jobs[queue] or {}) do
    local function k(state) return P .. 'i:' .. state .. ':' .. queue .. ':' .. job end
    succeeded = succeeded + redis.call('ZCOUNT', k('succeeded'), floor, '+inf')
    failed = failed + redis.call('ZCOUNT', k('failed'), floor, '+inf')
    dead = dead + redis.call('ZCOUNT', k('dead'), dead_floor, '+inf')
    local due = redis.call('ZCOUNT', k('scheduled'), '-inf', now)
    queued = queued + redis.call('ZCARD', k('queued')) + due
    scheduled = scheduled + redis.call('ZCARD', k('scheduled')) - due
    running = running + redis.call('ZCARD', k('running'))
    retrying = retrying + redis.call('ZCARD', k('retrying'))
    local first = redis.call('ZRANGE', k('queued'), 0, 0, 'WITHSCORES')
    if first[2] and (oldest < 0 or tonumber(first[2]) < oldest) then oldest = tonumber(first[2]) end
    local first_due = redis.call('ZRANGEBYSCORE', k('scheduled'), '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if first_due[2] and (oldest < 0 or tonumber(first_due[2]) < oldest) then oldest = tonumber(first_due[2]) end
  end
  out[#out + 1] = { queued, scheduled, running, retrying, succeeded, failed, dead, string.format('%d', oldest) }
end
return out
