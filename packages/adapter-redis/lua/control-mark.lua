--[[ control-mark: an operator's abort or interrupt marks, in the control slot (control.ts).
  KEYS[1] aborts (zset: job id -> ms the mark was made), KEYS[2] abort-tokens (hash: job id ->
  the lease token of the marked run; an interrupt's token is written "interrupt:<token>")
  ARGV[1] kind: a (abort) or i (interrupt), then pairs: job id, lease token of its run
  Returns nothing.

  A mark keeps its kind: an abort replaces any mark; an interrupt replaces any but an abort
  of the same run (same token), so a later abort of a run wins over its interrupt and a later
  interrupt does not undo an abort. A mark of an earlier run (another token) is stale and
  replaced either way.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interrupt = ARGV[1] == 'i'
for i = 2, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if not (interrupt and redis.call('HGET', KEYS[2], id) == token) then
    redis.call('HSET', KEYS[2], id, interrupt and ('interrupt:' .. token) or token)
    redis.call('ZADD', KEYS[1], now, id)
  end
end
return 0
