--[[ status-batch-lib: batches kept by the status store (StatusStoreBatches, status-batches.ts),
  included by the scripts that count (`--!include status-batch-lib.lua`; not a command of its
  own). The including script defines P (the key head "{<prefix>}:") and now (ms), and
  includes status-index-lib.lua first.

  Keys (all under the store's hash tag, so one Cluster slot with the statuses):
    <P>b:<id>    hash  the record: st (open | running | finished), tot, pen, suc, dis, dead,
                       fai (the counts of adapter/batch.ts), desc, cre (ISO text), fin (ms),
                       cb:<kind> (the callback to enqueue, JSON { id, job, queue, priority,
                       exe, run ms, enq ms, body }), ecb:<kind> (its job id once enqueued)
    <P>b:<id>:m  hash  job id -> the state it is counted in: p (pending), s, f (discarded), d
    <P>s:<id>    field bat: the batch of a counted job; bcb = 1 on a callback's status
  While a batch may still count (open, running, a finished batch with a job moved back) its
  two keys never expire; once it finishes they expire with its jobs' statuses (deadTtlMs
  when it has dead jobs, finishedTtlMs otherwise).
]]
local BATCH_FIELD = { s = 'suc', f = 'dis', d = 'dead' }

local function batch_key(bid)
  return P .. 'b:' .. bid
end

-- Count changes of this call, per batch (field -> delta), written once per batch by
-- batch_flush: a chunk of 1,000 jobs of one batch costs a few HINCRBYs, not two per job.
local batch_deltas = {}

local function batch_bump(bid, field, n)
  local d = batch_deltas[bid]
  if not d then
    d = {}
    batch_deltas[bid] = d
  end
  d[field] = (d[field] or 0) + n
end

-- Writes the counts gathered since the last flush; answers the batches whose pending count
-- went down (those may finish now). A batch counting a job pending again loses its expiry:
-- it keeps its record until the job is counted finished.
local function batch_flush()
  local moved = {}
  for bid, d in pairs(batch_deltas) do
    local B = batch_key(bid)
    for field, n in pairs(d) do
      if n ~= 0 then redis.call('HINCRBY', B, field, n) end
    end
    if (d.pen or 0) > 0 then
      redis.call('PERSIST', B)
      redis.call('PERSIST', B .. ':m')
    elseif (d.pen or 0) < 0 then
      moved[#moved + 1] = bid
    end
  end
  batch_deltas = {}
  return moved
end

-- Counts an enqueue of job `id` into batch `bid` (known to exist): a new member adds to
-- total and pending; one counted finished (a dead job moved back) goes back to pending;
-- one counted pending (a resend) counts nothing. Written by batch_flush.
local function batch_enqueued(bid, id)
  local M = batch_key(bid) .. ':m'
  local m = redis.call('HGET', M, id)
  if m == 'p' then return end
  if not m then
    batch_bump(bid, 'tot', 1)
  else
    batch_bump(bid, BATCH_FIELD[m], -1)
  end
  batch_bump(bid, 'pen', 1)
  redis.call('HSET', M, id, 'p')
end

-- Counts a current settlement of job `id` (outcome s, f, d, r) in batch `bid`. A job not
-- counted pending (already finished, or its batch expired) counts nothing. Written by
-- batch_flush, which answers the batches that may finish.
local function batch_settled(bid, id, outcome)
  local M = batch_key(bid) .. ':m'
  if redis.call('HGET', M, id) ~= 'p' then return end
  if outcome == 'r' then
    batch_bump(bid, 'fai', 1)
    return
  end
  local field = BATCH_FIELD[outcome]
  if not field then return end
  redis.call('HSET', M, id, outcome)
  batch_bump(bid, field, 1)
  batch_bump(bid, 'pen', -1)
end

-- Takes job `id` out of its batch when it was counted pending (an enqueue the backend
-- refused). Written by batch_flush.
local function batch_forget(bid, id)
  local M = batch_key(bid) .. ':m'
  if redis.call('HGET', M, id) ~= 'p' then return end
  redis.call('HDEL', M, id)
  batch_bump(bid, 'tot', -1)
  batch_bump(bid, 'pen', -1)
end

-- Finishes batch `bid` when it is sealed and has no pending job: records each callback that
-- applies and was not enqueued before (its status, queued and marked bcb, and its body as a
-- pending send, appended to `out` as the flow scripts reply them); ids whose status changed
-- go to `changed`. finished_ttl / dead_ttl: the retention of the record once finished.
-- taken: the pending sends' taken time (ms), `now` unless given: 0 leaves them to the next
-- sweep of any process (a cancel, whose caller gets no pending sends back).
local function batch_finish(bid, out, changed, finished_ttl, dead_ttl, taken)
  taken = taken or now
  local B = batch_key(bid)
  local f = redis.call('HMGET', B, 'st', 'pen', 'dis', 'dead')
  if not f[1] or f[1] == 'open' or tonumber(f[2]) > 0 then return end
  local failed = tonumber(f[3]) + tonumber(f[4]) > 0
  if f[1] ~= 'finished' then redis.call('HSET', B, 'st', 'finished', 'fin', now) end
  for _, kind in ipairs({ 'complete', 'success', 'failure' }) do
    local applies = kind == 'complete' or (kind == 'success' and not failed) or (kind == 'failure' and failed)
    if applies and redis.call('HEXISTS', B, 'ecb:' .. kind) == 0 then
      local raw = redis.call('HGET', B, 'cb:' .. kind)
      if raw then
        local c = cjson.decode(raw)
        local key = P .. 's:' .. c.id
        local state = 'queued'
        if tonumber(c.run) > now then state = 'scheduled' end
        redis.call('DEL', key)
        redis.call('HSET', key, 'job', c.job, 'queue', c.queue, 'priority', c.priority, 'state', state,
          'exe', c.exe, 'run', c.run, 'enq', c.enq, 'upd', now, 'body', c.body, 'bcb', '1')
        ix_add(P, state, c.queue, c.job, c.id, tonumber(c.run), now, nil, true)
        -- The entry as the flow scripts keep pending sends (status-flow-lib.lua).
        local token = 'b' .. now .. '-' .. kind
        redis.call('HSET', P .. 'f:o', c.id, token .. '\n' .. cjson.encode({ q = c.queue, b = c.body, r = tostring(c.run) }))
        redis.call('ZADD', P .. 'f:oz', taken, c.id)
        out[#out + 1] = { c.id, token, c.queue, c.body, tostring(c.run), tostring(taken) }
        redis.call('HSET', B, 'ecb:' .. kind, c.id)
        changed[#changed + 1] = c.id
      end
    end
  end
  local keep = finished_ttl
  if tonumber(f[4]) > 0 then keep = math.max(tonumber(finished_ttl), tonumber(dead_ttl)) end
  redis.call('PEXPIRE', B, keep)
  redis.call('PEXPIRE', B .. ':m', keep)
end
