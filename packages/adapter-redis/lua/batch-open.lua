--[[ batch-open: stores new batches, open, every count at 0 (batch-lib.lua has the fields).
  KEYS[1..n] the batches' keys ("<prefix>:batch:<id>"), one per batch, in ARGV's order
  ARGV[1] how long a finished record is kept, ms (`ret`)
  ARGV[2..] six per batch: id, description ("" for none, else "=" and the text), createdAt
            (ISO), then the callback jobs complete, success, failure (JSON, "" for none)
  Returns the number of batches stored. A batch that exists already (or is named twice)
  fails the call before anything is stored, naming its id.
]]
local seen = {}
for k = 1, #KEYS do
  local id = ARGV[2 + (k - 1) * 6]
  if seen[KEYS[k]] or redis.call('EXISTS', KEYS[k]) == 1 then
    return redis.error_reply('openBatches: batch ' .. id .. ' already exists')
  end
  seen[KEYS[k]] = true
end
for k = 1, #KEYS do
  local at = 2 + (k - 1) * 6
  local fields = { 'st', 'o', 'tot', '0', 'pen', '0', 'suc', '0', 'dis', '0', 'dead', '0', 'fail', '0', 'cre', ARGV[at + 2], 'ret', ARGV[1] }
  local desc = ARGV[at + 1]
  if desc ~= '' then
    fields[#fields + 1] = 'desc'
    fields[#fields + 1] = string.sub(desc, 2)
  end
  local kinds = { 'complete', 'success', 'failure' }
  for n, kind in ipairs(kinds) do
    local callback = ARGV[at + 2 + n]
    if callback ~= '' then
      fields[#fields + 1] = 'c:' .. kind
      fields[#fields + 1] = callback
    end
  end
  redis.call('HSET', KEYS[k], unpack(fields))
end
return #KEYS
