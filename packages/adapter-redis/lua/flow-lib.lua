--[[ flow-lib: concurrency slots and parking, shared by the scripts that include it
  (`--!include flow-lib.lua` is replaced by this text when scripts.ts loads a script).
  Not a command of its own. Every name is built from `gp`, the global prefix ("<prefix>:");
  see keys.ts for the layout. These keys are global (outside any queue's hash tag): only a
  standalone Redis runs these steps, which is why the capabilities are off on a Cluster.

  A concurrency slot is a member of `slots:<k>` scored by its holder's lease deadline; one
  whose deadline passed no longer counts (pruned before counting). A job reserve would hand
  out while its key is full is parked: out of its queue's ready set, into its queue's
  `parked` zset (for counts; score = its priority) and at the tail of `parked:<k>`
  (FIFO); `parked-keys` lists the keys with parked jobs. Un-parking takes the head of the
  list back to the head of its queue's ready list of its priority (job-lib.lua) and
  wakes that queue's workers; the admission check runs again at reserve, so un-parking too
  many only parks them again, never exceeds a limit. Un-parked queues are collected in a
  `wakes` table and published once per queue at the end of the script (flow_wake).
]]
local function flow_queue_key(gp, queue, name)
  return gp .. '{' .. queue .. '}:' .. name
end

-- Un-parks up to `n` parked jobs of concurrency key `ck`, oldest first; adds their queues to
-- `wakes` (queue -> true). Returns how many went back. `parked-keys` holds a key exactly while
-- its list is non-empty (flow_park adds it in the same step; the list empties only here, which
-- then removes it), so: nothing in the set, nothing to pop; an LPOP that finds nothing, nothing
-- to remove. Before, every freed slot ran LPOP, EXISTS and SREM (bench/flow, drain of 20k with
-- nothing parked: 3 commands per concurrency job; now one SCARD per script run).
local flow_parked_any = nil
local function flow_unpark(gp, ck, n, wakes)
  -- Whether any job is parked at all: read once per script run, set by flow_park.
  if flow_parked_any == nil then flow_parked_any = redis.call('SCARD', gp .. 'parked-keys') > 0 end
  if not flow_parked_any then return 0 end
  local list = gp .. 'parked:' .. ck
  local moved, popped = 0, false
  while moved < n do
    local entry = redis.call('LPOP', list)
    if not entry then break end
    popped = true
    local e = cjson.decode(entry)
    local queue, id = e[1], e[2]
    if redis.call('ZREM', flow_queue_key(gp, queue, 'parked'), id) == 1 then
      local packed = redis.call('HGET', flow_queue_key(gp, queue, 'jobs'), id)
      if packed then
        -- As job-lib.lua's ready_push (this file is included without it).
        local p = cmsgpack.unpack(packed).p or 0
        redis.call('LPUSH', flow_queue_key(gp, queue, 'ready:' .. p), id)
        redis.call('ZADD', flow_queue_key(gp, queue, 'prios'), p, p)
        wakes[queue] = true
        moved = moved + 1
      end
    end
  end
  if popped and redis.call('EXISTS', list) == 0 then redis.call('SREM', gp .. 'parked-keys', ck) end
  return moved
end

-- Parks job `id` of `queue` (popped from ready with `score`) on concurrency key `ck`.
local function flow_park(gp, queue, id, ck, score)
  redis.call('ZADD', flow_queue_key(gp, queue, 'parked'), score, id)
  redis.call('RPUSH', gp .. 'parked:' .. ck, cjson.encode({ queue, id }))
  redis.call('SADD', gp .. 'parked-keys', ck)
  flow_parked_any = true
end

-- The holder `id` of a slot of `ck` lets go of it (settled, lease expired, moved): its slot
-- is freed and one parked job of the key goes back to its ready set.
local function flow_free_slot(gp, ck, id, wakes)
  redis.call('ZREM', gp .. 'slots:' .. ck, id)
  flow_unpark(gp, ck, 1, wakes)
end

-- Live holders of `ck` at `now`, after pruning those whose lease deadline passed.
local function flow_live_slots(gp, ck, now)
  local slots = gp .. 'slots:' .. ck
  redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
  return redis.call('ZCARD', slots)
end

-- Publishes a wake-up per queue in `wakes` on `channel` (the wake channel, "<prefix>:wake").
local function flow_wake(channel, wakes)
  for queue in pairs(wakes) do redis.call('PUBLISH', channel, queue) end
end
