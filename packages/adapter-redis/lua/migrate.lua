--[[ migrate: moves jobs of one queue from layout 1 (a hash per job) into its jobs hash.
  KEYS[1] the queue's jobs hash (job-lib.lua)
  ARGV[1] prefix of the queue's layout-1 job hashes ("<prefix>:{<queue>}:j:"), ARGV[2..] ids
  Returns the number of jobs moved.

  Each job's old hash becomes its record, field by field (numbers as numbers, defaults left
  out, the body kept verbatim as `b`; `queue`, `wid` and the old `fl` flag are dropped:
  the key names the queue, nothing read the others), and the old hash goes, in one step per
  job: two processes migrating at once move each job once. A job whose record exists
  already (moved by the other process) only loses its old hash. Nothing else changes: the
  state sets, flow keys and recurring ticks name jobs by id, as before.
]]
--!include job-lib.lua
local STRINGS = { state = 's', job = 'j', body = 'b', tok = 't', res = 'x', err = 'o', prog = 'g',
  ck = 'ck', cl = 'cl', rk = 'rk', rl = 'rl', rp = 'rp', uk = 'uk', uw = 'uw' }
local NUMBERS = { priority = 'p', exe = 'e', run = 'r', enq = 'n', upd = 'u', sta = 'a', fin = 'f' }
local moved = 0
for i = 2, #ARGV do
  local id = ARGV[i]
  local key = ARGV[1] .. id
  local flat = redis.call('HGETALL', key)
  if #flat > 0 then
    if redis.call('HEXISTS', KEYS[1], id) == 0 then
      local rec = {}
      for f = 1, #flat, 2 do
        local name, value = flat[f], flat[f + 1]
        if STRINGS[name] then
          rec[STRINGS[name]] = value
        elseif NUMBERS[name] and value ~= '' then
          rec[NUMBERS[name]] = tonumber(value)
        end
      end
      if rec.p == 0 then rec.p = nil end
      if rec.s == 'queued' then rec.s = nil end
      if rec.e == 0 then rec.e = nil end
      local n = rec.n or 0
      rec.n = n
      for _, k in ipairs({ 'r', 'u', 'a', 'f' }) do
        if rec[k] then rec[k] = rec[k] - n end
      end
      if rec.r == 0 then rec.r = nil end
      job_put(KEYS[1], id, rec)
      moved = moved + 1
    end
    redis.call('DEL', key)
  end
end
return moved
