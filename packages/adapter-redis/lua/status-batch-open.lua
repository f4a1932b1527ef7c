--[[ status-batch-open: stores new batches, open, every count at 0 (StatusStoreBatches.open).
  KEYS[1] the pending sends' hash "{<prefix>}:f:o" (routes the call to the store's slot)
  ARGV[1] key head "{<prefix>}:", ARGV[2..] one JSON record per batch: { id, desc, cre,
    cb = { <kind> = { id, job, queue, priority, exe, run, enq, body } } }
  Returns the number of batches stored. An id held already fails the call before anything
  is written, naming it. Layout: status-batch-lib.lua.
]]
local P = ARGV[1]
local records = {}
for i = 2, #ARGV do
  local b = cjson.decode(ARGV[i])
  if redis.call('EXISTS', P .. 'b:' .. b.id) == 1 then
    return redis.error_reply('ERR errand: batch ' .. b.id .. ' is stored already')
  end
  records[#records + 1] = b
end
for _, b in ipairs(records) do
  local B = P .. 'b:' .. b.id
  redis.call('HSET', B, 'st', 'open', 'tot', 0, 'pen', 0, 'suc', 0, 'dis', 0, 'dead', 0, 'fai', 0, 'cre', b.cre)
  if b.desc and b.desc ~= cjson.null then redis.call('HSET', B, 'desc', b.desc) end
  for kind, c in pairs(b.cb) do redis.call('HSET', B, 'cb:' .. kind, cjson.encode(c)) end
end
return #records
