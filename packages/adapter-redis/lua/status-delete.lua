--[[ status-delete: forgets jobs (purged from the backend).
  KEYS[1..n] status hashes, one per job
  ARGV[1] status channel ("" for none), ARGV[2] key prefix ("{<prefix>}:s:")
  Returns the number of keys given; their ids are published on the channel as {"ids": [...]}.
  Each job's index entry goes with its hash (status-index-lib.lua). A job of a batch counted
  pending there (an enqueue the backend refused) is taken out of the batch's counts.
]]
--!include status-index-lib.lua
local skip = #ARGV[2] + 1
local P = string.sub(ARGV[2], 1, -3)
--!include status-batch-lib.lua
local ids = {}
for i, key in ipairs(KEYS) do
  local id = string.sub(key, skip)
  local f = redis.call('HMGET', key, 'state', 'queue', 'job', 'bat')
  ix_drop(P, f[1], f[2], f[3], id)
  if f[4] then batch_forget(f[4], id) end
  redis.call('UNLINK', key)
  ids[#ids + 1] = id
end
batch_flush()
if ARGV[1] ~= '' and #ids > 0 then redis.call('PUBLISH', ARGV[1], cjson.encode({ ids = ids })) end
return #KEYS
