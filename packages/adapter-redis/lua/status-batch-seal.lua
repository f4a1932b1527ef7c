--[[ status-batch-seal: seals batches; those with no pending job finish (StatusStoreBatches.seal).
  KEYS[1] the pending sends' hash "{<prefix>}:f:o" (routes the call to the store's slot)
  ARGV[1] key head "{<prefix>}:", ARGV[2] ttl ms of a finished status, ARGV[3] ttl ms of a
  dead status, ARGV[4] status channel ("" for none), ARGV[5..] batch ids
  Returns the pending sends of the callbacks enqueued (as status-settled.lua). An unknown id
  fails the call before anything is written, naming it; a sealed batch stays as it is.
]]
--!include status-index-lib.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P = ARGV[1]
--!include status-batch-lib.lua
for i = 5, #ARGV do
  if redis.call('EXISTS', batch_key(ARGV[i])) == 0 then
    return redis.error_reply('ERR errand: unknown batch ' .. ARGV[i] .. ' (not opened, or expired)')
  end
end
local sends, changed = {}, {}
for i = 5, #ARGV do
  local B = batch_key(ARGV[i])
  if redis.call('HGET', B, 'st') == 'open' then
    redis.call('HSET', B, 'st', 'running')
    batch_finish(ARGV[i], sends, changed, ARGV[2], ARGV[3])
  end
end
if ARGV[4] ~= '' and #changed > 0 then redis.call('PUBLISH', ARGV[4], cjson.encode({ ids = changed })) end
return sends
