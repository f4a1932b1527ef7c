--[[ status-flow-claim: decides enqueues with flow.unique / flow.recurring, in order (StatusStoreFlow.claim).
  ARGV[1] key head "{<prefix>}:", ARGV[2] status channel ("" for none)
  ARGV[3..] 14 per job: id, job class, queue, priority, executions, runAt ms, enqueuedAt ms,
    body, unique key ("" none), while, forMs ("" none), task ("" none), tick ms, token
  Returns per job { 0, holder id } for a duplicate, or { 1, token, taken ms } when stored.

  Duplicate: the task's last tick is not earlier than this one, or the unique key's lock has
  not expired and its holder's status is one its `while` blocks (an unknown holder never
  blocks). Otherwise the status is recorded as status-enqueued.lua does, the lock and the
  task's tick now name this job, and the body waits as a pending send until confirmed (and is
  kept with the status, as status-enqueued.lua keeps it).
]]
--!include status-index-lib.lua
local BLOCKS = {
  queued = { scheduled = true, queued = true },
  active = { scheduled = true, queued = true, running = true, retrying = true },
  done = { scheduled = true, queued = true, running = true, retrying = true, succeeded = true },
}
local out, ids = {}, {}
for i = 0, (#ARGV - 2) / 14 - 1 do
  local a = 2 + i * 14
  local id, ukey, task, tick = ARGV[a + 1], ARGV[a + 9], ARGV[a + 12], ARGV[a + 13]
  local dup
  if task ~= '' then
    local r = redis.call('HMGET', F .. 'r:' .. task, 'tick', 'id')
    if r[1] and tonumber(r[1]) >= tonumber(tick) then dup = r[2] end
  end
  if not dup and ukey ~= '' then
    local l = redis.call('HMGET', F .. 'u:' .. ukey, 'id', 'w', 'exp')
    if l[1] and (not l[3] or l[3] == '' or tonumber(l[3]) > now) then
      local state = redis.call('HGET', S .. l[1], 'state')
      if state and BLOCKS[l[2]] and BLOCKS[l[2]][state] then dup = l[1] end
    end
  end
  if dup then
    out[#out + 1] = { 0, dup }
  else
    local key = S .. id
    local state = 'queued'
    if tonumber(ARGV[a + 6]) > now then state = 'scheduled' end
    local old = redis.call('HMGET', key, 'state', 'queue', 'job')
    ix_drop(P, old[1], old[2], old[3], id)
    redis.call('DEL', key)
    redis.call('HSET', key, 'job', ARGV[a + 2], 'queue', ARGV[a + 3], 'priority', ARGV[a + 4], 'state', state,
      'exe', ARGV[a + 5], 'run', ARGV[a + 6], 'enq', ARGV[a + 7], 'upd', now, 'body', ARGV[a + 8])
    ix_add(P, state, ARGV[a + 3], ARGV[a + 2], id, tonumber(ARGV[a + 6]), now, nil, true)
    local e = { t = ARGV[a + 14], q = ARGV[a + 3], b = ARGV[a + 8], r = ARGV[a + 6] }
    if ukey ~= '' then
      local lk = F .. 'u:' .. ukey
      local exp = ''
      if ARGV[a + 11] ~= '' then exp = tostring(tonumber(ARGV[a + 7]) + tonumber(ARGV[a + 11])) end
      redis.call('DEL', lk)
      redis.call('HSET', lk, 'id', id, 'w', ARGV[a + 10], 'exp', exp)
      -- An expired lock blocks nothing: it may go at its expiry.
      if exp ~= '' then redis.call('PEXPIREAT', lk, exp) end
      e.u = ukey
    end
    if task ~= '' then
      local rk = F .. 'r:' .. task
      local before = redis.call('HMGET', rk, 'tick', 'id')
      if before[1] then
        e.pt = before[1]
        e.pi = before[2]
      end
      redis.call('HSET', rk, 'tick', tick, 'id', id)
      e.k = task
    end
    pending_store(id, e, now)
    out[#out + 1] = { 1, e.t, tostring(now) }
    ids[#ids + 1] = id
  end
end
if ARGV[2] ~= '' and #ids > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = ids })) end
return out
