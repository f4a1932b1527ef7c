--[[ status-flow-lib: prepended to every status-flow-*.lua script (status-flow.ts joins them at load time).
  KEYS[1] of every flow script is F.."o" (it routes the call to the store's slot on a Cluster),
  ARGV[1] the store's key head "{<prefix>}:"; every key below starts with it, so all of them
  sit in the store's one Cluster slot (the scripts build the names they touch from it).

  Keys (F = "{<prefix>}:f:", S = "{<prefix>}:s:" the status hashes):
    F.."u:"<key>   hash  unique lock: id (holder), w (its while), exp (ms, "" for none)
    F.."r:"<task>  hash  recurring task: tick (ms), id
    F.."o"         hash  pending sends: id -> "<token>\n" .. JSON { q queue, b body, r due ms,
                         u unique key, k task, pt/pi the task's tick and job before the claim }
                         (the token first, so confirm and undo compare it without decoding the
                         body; an entry stored before as one JSON object with t the token
                         reads as before)
    F.."oz"        zset  pending sends by taken time (ms)
    F.."c:"<key>   zset  concurrency slots: id -> lease end (ms); ended ones pruned when counted
    F.."q:"<key>   list  parked ids of a concurrency key, oldest first
    F.."pk"        hash  parked jobs: id -> JSON { k key, q queue, b body }
    F.."ck"        hash  concurrency keys with parked jobs -> the limit last carried
    F.."w:"<key>   zset  rate window: one member per start, scored by its time (ms)
    F.."pc"        hash  queue -> number of parked jobs
    F.."d:"<queue> zset  deferred jobs -> the time they may start (ms); dropped when leased
    S..<id> field pmsg   the message a parked job came in (a copy of it seen again is dropped)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local P = ARGV[1]
local F = P .. 'f:'
local S = P .. 's:'

-- A pending send as the scripts return it: { id, token, queue, body, due ms, taken ms }.
local function pending_reply(out, id, e, taken)
  out[#out + 1] = { id, e.t, e.q, e.b, tostring(e.r), tostring(taken) }
end

-- A pending entry's token, without decoding the rest (confirm runs once per enqueued job).
local function pending_token(raw)
  if string.byte(raw, 1) == 123 then return cjson.decode(raw).t end
  return string.sub(raw, 1, string.find(raw, '\n', 1, true) - 1)
end

-- A pending entry as a table, its token in t.
local function pending_entry(raw)
  if string.byte(raw, 1) == 123 then return cjson.decode(raw) end
  local nl = string.find(raw, '\n', 1, true)
  local e = cjson.decode(string.sub(raw, nl + 1))
  e.t = string.sub(raw, 1, nl - 1)
  return e
end

-- Stores a pending send (e.t its token) and its taken time.
local function pending_store(id, e, taken)
  local token = e.t
  e.t = nil
  redis.call('HSET', F .. 'o', id, token .. '\n' .. cjson.encode(e))
  e.t = token
  redis.call('ZADD', F .. 'oz', taken, id)
end

-- Lets go up to n parked jobs of a concurrency key, oldest first, as pending sends.
local unparked = 0
local function unpark(key, n, out)
  local q = F .. 'q:' .. key
  for _ = 1, n do
    local id = redis.call('LPOP', q)
    if not id then break end
    local raw = redis.call('HGET', F .. 'pk', id)
    redis.call('HDEL', F .. 'pk', id)
    if raw then
      local p = cjson.decode(raw)
      redis.call('HINCRBY', F .. 'pc', p.q, -1)
      unparked = unparked + 1
      local e = { t = 'u' .. now .. '-' .. unparked, q = p.q, b = p.b, r = tostring(now) }
      pending_store(id, e, now)
      pending_reply(out, id, e, now)
    end
  end
  if redis.call('LLEN', q) == 0 then redis.call('HDEL', F .. 'ck', key) end
end

-- A sorted set of times (slots, deferred jobs) expires after its latest time: idle keys go away.
local function expire_slots(c)
  local top = redis.call('ZRANGE', c, -1, -1, 'WITHSCORES')
  if top[2] then redis.call('PEXPIREAT', c, math.floor(tonumber(top[2])) + 1000) end
end
