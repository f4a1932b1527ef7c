--[[ status-started: records deliveries of jobs to workers, and answers the void ones.
  KEYS[1..n] status hashes, one per delivery
  ARGV[1] ttl ms of a hash that holds only a lease (and of a void mark once its message came),
  ARGV[2] status channel ("" for none), ARGV[3] key prefix ("{<prefix>}:s:"),
  ARGV[4..] two per key, in KEYS order: the lease token, the runAt its body carries ("" for none)
  Returns { the number of live jobs marked running, { positions (1-based) of void deliveries } };
  the ids marked running are published on the channel as {"ids": [...]} (a lease alone changes
  no status anyone reads).

  Void: the job has a void mark ("{<prefix>}:v:<id>", a hash whose fields are the superseded
  runAt texts, and "*" for a cancelled job: every copy) naming the delivery's runAt. Its status
  is left alone, and the mark now goes with a finished status's retention (a void copy came:
  the adapter deletes it).

  Void too: a delivery of a batch's callback (field bcb) whose status is finished. Its
  message was sent twice (the sender died between SQS's answer and the confirm, and the
  sweep sent it again), and a callback runs once (StatusStoreBatches).

  Otherwise a live job (recorded, not finished) becomes running with one more execution.
  Whatever the job's state, the delivery's lease becomes the current one: a duplicate delivery
  of a finished job, or of one this store never saw, must still be able to settle (on SQS, to
  delete its message), and the delivery before it is stale from now on. A hash that holds only
  a lease expires like a finished status, so deliveries nobody settles do not pile up.
]]
--!include status-index-lib.lua
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local started, void = {}, {}
local skip = #ARGV[3] + 1
local P = string.sub(ARGV[3], 1, -3)
for i, key in ipairs(KEYS) do
  local id = string.sub(key, skip)
  local token, run_at = ARGV[2 + i * 2], ARGV[3 + i * 2]
  local mark = redis.call('HMGET', P .. 'v:' .. id, '*', run_at)
  local cb = redis.call('HMGET', key, 'bcb', 'fin')
  if cb[1] and cb[2] then
    void[#void + 1] = i
  elseif mark[1] or mark[2] then
    void[#void + 1] = i
    local left = redis.call('PTTL', P .. 'v:' .. id)
    if left < 0 or left > tonumber(ARGV[1]) then redis.call('PEXPIRE', P .. 'v:' .. id, ARGV[1]) end
  else
    local f = redis.call('HMGET', key, 'state', 'fin', 'queue', 'job')
    if f[1] and not f[2] then
      if f[1] ~= 'running' then
        ix_drop(P, f[1], f[3], f[4], id)
        ix_add(P, 'running', f[3], f[4], id, 0, now)
      end
      redis.call('HSET', key, 'state', 'running', 'sta', now, 'upd', now)
      redis.call('HINCRBY', key, 'exe', 1)
      started[#started + 1] = id
    end
    redis.call('HSET', key, 'tok', token)
    if not f[1] then redis.call('PEXPIRE', key, ARGV[1]) end
  end
end
if ARGV[2] ~= '' and #started > 0 then redis.call('PUBLISH', ARGV[2], cjson.encode({ ids = started })) end
return { #started, void }
