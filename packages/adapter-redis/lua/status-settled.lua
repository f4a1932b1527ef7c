--[[ status-settled: records how deliveries ended, checking each lease in the same step.
  KEYS[1..n] status hashes, one per settlement
  ARGV[1] ttl ms of a finished status, ARGV[2] status channel ("" for none),
  ARGV[3] key prefix ("{<prefix>}:s:"), ARGV[4] ttl ms of a dead status (deadTtlMs: SQS keeps a
  dead-letter message 14 days, and the dead listing must show it as long)
  ARGV[5..] seven per key, in KEYS order: lease token, outcome, a, b, c, d, body
    outcome s (succeeded): a = result text, b = "1" when there is a result; the body is dropped
            f (failed, discarded): a = error JSON
            d (dead): a = error JSON, body = the dead payload's text ("": keep the one stored)
            r (retry): a = error JSON, b = next runAt ms, c = queue, d = priority, body = the
              retried payload's text
            l (released): the job is queued again (scheduled if its runAt is later), uncounted
  Returns { the number of settlements applied, pending sends }: the callbacks of the batches
  this call finished (status-batch-lib.lua), as the flow scripts reply pending sends. The
  ids of jobs whose status changed are published on the channel as {"ids": [...]}.

  A current settlement of a live job of a batch (field bat) is counted in its batch in the
  same step; a stale one, or one of a finished job (a duplicate delivery), counts nothing.

  A stale settlement (see status-stale.lua: the job was delivered again since, or is finished)
  changes nothing; the check and the write are one script, so no delivery can slip between.
  A current one ends the lease. It moves a live job to its new state; a finished job keeps
  its status (a duplicate delivery of it only drops its lease), and a hash holding only a
  lease is deleted. Finished statuses expire after the ttl (dead ones after ARGV[4]).

  A job that stays live (released, retry) keeps an ended lease, tok = '' (no delivery's
  token), not none: writes of one job may land out of order, and a settlement of an earlier
  delivery landing after this one must stay stale instead of finding a live job without a
  lease and applying (a handed-back job turned finished, a release counted twice).
]]
--!include status-index-lib.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = ARGV[1]
local applied = 0
local changed = {}
local skip = #ARGV[3] + 1
local P = string.sub(ARGV[3], 1, -3)
--!include status-batch-lib.lua
local sends = {}
for i, key in ipairs(KEYS) do
  local a = 4 + (i - 1) * 7
  local id = string.sub(key, skip)
  local lease, outcome = ARGV[a + 1], ARGV[a + 2]
  local f = redis.call('HMGET', key, 'tok', 'state', 'fin', 'run', 'exe', 'queue', 'job', 'bat')
  local current, state, finished = f[1], f[2], f[3]
  local stale = (current and current ~= lease) or (not current and state and finished)
  if not stale then
    if state and not finished then
      ix_drop(P, state, f[6], f[7], id)
      if outcome == 's' then
        redis.call('HSET', key, 'state', 'succeeded', 'fin', now, 'upd', now)
        if ARGV[a + 4] == '1' then redis.call('HSET', key, 'res', ARGV[a + 3]) end
        redis.call('HDEL', key, 'body')
        redis.call('PEXPIRE', key, ttl)
        ix_add(P, 'succeeded', f[6], f[7], id, now, now, ttl)
      elseif outcome == 'f' or outcome == 'd' then
        local final = 'failed'
        local keep = ttl
        if outcome == 'd' then final, keep = 'dead', ARGV[4] end
        redis.call('HSET', key, 'state', final, 'err', ARGV[a + 3], 'fin', now, 'upd', now)
        if ARGV[a + 7] ~= '' then redis.call('HSET', key, 'body', ARGV[a + 7]) end
        redis.call('PEXPIRE', key, keep)
        ix_add(P, final, f[6], f[7], id, now, now, keep)
      elseif outcome == 'r' then
        redis.call('HSET', key, 'state', 'retrying', 'err', ARGV[a + 3], 'run', ARGV[a + 4], 'queue', ARGV[a + 5],
          'priority', ARGV[a + 6], 'upd', now, 'body', ARGV[a + 7])
        ix_add(P, 'retrying', ARGV[a + 5], f[7], id, tonumber(ARGV[a + 4]), now, nil, ARGV[a + 5] ~= f[6])
      else -- 'l': released
        local back = 'queued'
        if tonumber(f[4]) > now then back = 'scheduled' end
        redis.call('HSET', key, 'state', back, 'exe', math.max(0, tonumber(f[5]) - 1), 'upd', now)
        ix_add(P, back, f[6], f[7], id, tonumber(f[4]), now)
      end
      if outcome == 'r' or outcome == 'l' then
        redis.call('HSET', key, 'tok', '')
      else
        redis.call('HDEL', key, 'tok')
      end
      if f[8] then batch_settled(f[8], id, outcome) end
      applied = applied + 1
      changed[#changed + 1] = id
    elseif state then
      if current then redis.call('HDEL', key, 'tok') end
      applied = applied + 1
    elseif current then
      redis.call('DEL', key)
      applied = applied + 1
    end
  end
end
for _, bid in ipairs(batch_flush()) do batch_finish(bid, sends, changed, ttl, ARGV[4]) end
if ARGV[2] ~= '' and #changed > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = changed })) end
return { applied, sends }
