--[[ batch-seal: marks batches fully enqueued by their creator (open -> running), and
  finishes those with nothing pending, storing their callbacks (batch-lib.lua).
  KEYS[1..n] the batches' keys ("<prefix>:batch:<id>")
  ARGV[1] global prefix ("<prefix>:"), ARGV[2] wake channel, ARGV[3] status channel ("" for
  none), ARGV[4..] the batches' ids, in KEYS' order
  Returns the number of batches sealed by this call. An unknown batch fails the call before
  anything changes, naming its id; sealing a sealed (or finished) batch changes nothing.
]]
--!include job-lib.lua
--!include batch-lib.lua
local gp = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local states = {}
for k = 1, #KEYS do
  states[k] = redis.call('HGET', KEYS[k], 'st')
  if not states[k] then
    return redis.error_reply('sealBatches: batch ' .. ARGV[3 + k] .. ' does not exist (or expired)')
  end
end
local sealed = 0
for k = 1, #KEYS do
  if states[k] == 'o' and redis.call('HGET', KEYS[k], 'st') == 'o' then
    redis.call('HSET', KEYS[k], 'st', 'r')
    sealed = sealed + 1
    batch_finish(gp, KEYS[k], now)
  end
end
batch_publish(ARGV[2], ARGV[3])
return sealed
