--[[ status-control-jobs: an operator's action on jobs in the status store (status-control.ts).
  KEYS[1] the abort marks ("{<prefix>}:c:aborts"; it routes the call to the store's slot)
  ARGV[1] key head "{<prefix>}:", ARGV[2] action: c (cancel), n (run now), a (abort), i (interrupt),
  ARGV[3] status channel ("" for none), ARGV[4] ttl ms of a finished status,
  ARGV[5] the cancelled error (JSON), ARGV[6] how long a void mark outlives its job's run time (ms),
  ARGV[7] ttl ms of a dead status (a finished batch's record keeps it when it has dead jobs),
  ARGV[8..] per job: c, a, i: its id; n: its id, the superseded runAt text, the body sent with no delay
  Returns the ids the action applied to (c, a, i), in order; n returns the ids marked.

  c: a job recorded and not started (queued, scheduled, retrying) becomes failed with the
     error, its index entry moves, and its void mark "{<prefix>}:v:<id>" (a hash of void runAt
     texts) gets "*" (no copy runs), kept until its run time (or now) plus ARGV[6]. A job parked by a
     concurrency key leaves the key's FIFO; one deferred by a rate limit leaves the deferred
     set (so neither counts as queued any longer). A job of a batch is counted discarded
     (status-batch-lib.lua); a batch that finishes so records its callbacks as pending sends
     taken at 0, which the next sweep of any process hands out at once.
  n: any recorded job's void mark gets the superseded runAt (copies carrying it do not run);
     one still scheduled or retrying becomes queued, its runAt now, its body the one sent.
  a: a running job with a lease is marked in "{<prefix>}:c:aborts" (zset: id -> when) and
     "{<prefix>}:c:abort-tokens" (hash: id -> the lease token of the run to abort).
  i: as a, the token written "interrupt:<token>"; a run already marked for abort (its bare
     token) keeps its abort mark, while a later a replaces an interrupt mark: abort wins.
]]
--!include status-index-lib.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P, action, channel, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local F = P .. 'f:'
local WAITING = { queued = true, scheduled = true, retrying = true }
local keep = tonumber(ARGV[6])
local done, changed = {}, {}
--!include status-batch-lib.lua
local sends = {}

local function mark(id, field, run)
  local v = P .. 'v:' .. id
  redis.call('HSET', v, field, '1')
  local until_ms = math.max(now, tonumber(run) or now) + keep
  local left = redis.call('PTTL', v)
  if left < 0 or now + left < until_ms then redis.call('PEXPIREAT', v, until_ms) end
end

local step = 1
if action == 'n' then step = 3 end
for i = 8, #ARGV, step do
  local id = ARGV[i]
  local s = P .. 's:' .. id
  local f = redis.call('HMGET', s, 'state', 'fin', 'queue', 'job', 'run', 'tok', 'bat')
  local state = f[1]
  if action == 'c' and state and not f[2] and WAITING[state] then
    ix_drop(P, state, f[3], f[4], id)
    redis.call('HSET', s, 'state', 'failed', 'err', ARGV[5], 'fin', now, 'upd', now)
    redis.call('PEXPIRE', s, ttl)
    ix_add(P, 'failed', f[3], f[4], id, now, now, ttl)
    mark(id, '*', f[5])
    local parked = redis.call('HGET', F .. 'pk', id)
    if parked then
      local p = cjson.decode(parked)
      redis.call('LREM', F .. 'q:' .. p.k, 0, id)
      redis.call('HDEL', F .. 'pk', id)
      redis.call('HINCRBY', F .. 'pc', p.q, -1)
      if redis.call('LLEN', F .. 'q:' .. p.k) == 0 then redis.call('HDEL', F .. 'ck', p.k) end
    end
    redis.call('ZREM', F .. 'd:' .. f[3], id)
    if f[7] then batch_settled(f[7], id, 'f') end
    done[#done + 1] = id
    changed[#changed + 1] = id
  elseif action == 'n' and state then
    mark(id, ARGV[i + 1], f[5])
    if not f[2] and (state == 'scheduled' or state == 'retrying') then
      ix_drop(P, state, f[3], f[4], id)
      redis.call('HSET', s, 'state', 'queued', 'run', now, 'upd', now, 'body', ARGV[i + 2])
      ix_add(P, 'queued', f[3], f[4], id, now, now)
      changed[#changed + 1] = id
    end
    done[#done + 1] = id
  elseif (action == 'a' or action == 'i') and state == 'running' and f[6] and f[6] ~= '' then
    if not (action == 'i' and redis.call('HGET', P .. 'c:abort-tokens', id) == f[6]) then
      redis.call('ZADD', P .. 'c:aborts', now, id)
      redis.call('HSET', P .. 'c:abort-tokens', id, action == 'i' and ('interrupt:' .. f[6]) or f[6])
    end
    done[#done + 1] = id
  end
end
for _, bid in ipairs(batch_flush()) do batch_finish(bid, sends, changed, ttl, ARGV[7], 0) end
if channel ~= '' and #changed > 0 then redis.call('PUBLISH', channel, cjson.encode({ ids = changed })) end
return done
