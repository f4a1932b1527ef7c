--[[ status-flow-undo: claims whose send failed are forgotten as if never enqueued (StatusStoreFlow.undo).
  ARGV[1] key head "{<prefix>}:", ARGV[2] status channel ("" for none), ARGV[3..] triples: id, token, taken ms
  Returns the number undone. An entry taken since by another process (sweep) is left to it.
  The lock is dropped if it still names the job; the task's tick goes back to the one before.
  The status goes with its index entry (status-index-lib.lua).
]]
--!include status-index-lib.lua
local ids = {}
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  local raw = redis.call('HGET', F .. 'o', id)
  local taken = redis.call('ZSCORE', F .. 'oz', id)
  if raw and taken and tonumber(taken) == tonumber(ARGV[i + 2]) and pending_token(raw) == ARGV[i + 1] then
    local e = pending_entry(raw)
    redis.call('HDEL', F .. 'o', id)
    redis.call('ZREM', F .. 'oz', id)
    if e.u and redis.call('HGET', F .. 'u:' .. e.u, 'id') == id then redis.call('DEL', F .. 'u:' .. e.u) end
    if e.k then
      local rk = F .. 'r:' .. e.k
      if redis.call('HGET', rk, 'id') == id then
        if e.pt then redis.call('HSET', rk, 'tick', e.pt, 'id', e.pi) else redis.call('DEL', rk) end
      end
    end
    local sf = redis.call('HMGET', S .. id, 'state', 'queue', 'job')
    ix_drop(P, sf[1], sf[2], sf[3], id)
    redis.call('DEL', S .. id)
    ids[#ids + 1] = id
  end
end
if ARGV[2] ~= '' and #ids > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = ids })) end
return #ids
