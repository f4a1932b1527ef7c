--[[ extend-leases: pushes out the leases still held.
  KEYS[1] active  zset  id -> lease deadline ms
  KEYS[2] flow    the queue's flow marker (keys.ts): without it no job has a slot to extend
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] lease ms, ARGV[3] global prefix ("<prefix>:")
  ARGV[4..] pairs: id, lease token
  Returns the ids whose lease was lost (expired and leased again, or settled).

  A job holding a concurrency slot (`ck` in its record) has its slot pushed out to the same
  deadline: a slot lives exactly as long as its holder's lease. Once that deadline has
  passed (deadline ≤ now, as reserve prunes slots) the holder no longer counts and another
  job may have its slot, so its renewal is refused: lost, whether or not the upkeep has
  returned the job yet (it does later, and frees nothing twice: ZREM of a pruned slot). A
  plain job's late renewal succeeds while the job was not returned, as before.
]]
--!include job-lib.lua
local jobs, gp = ARGV[1], ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local deadline = now + tonumber(ARGV[2])
local flowing = redis.call('EXISTS', KEYS[2]) == 1
local lost = {}
for i = 4, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  local rec = job_get(jobs, id)
  if rec and rec.t == token and rec.s == 'running' then
    local ck = flowing and rec.ck
    if not ck then
      redis.call('ZADD', KEYS[1], deadline, id)
    elseif tonumber(redis.call('ZSCORE', KEYS[1], id) or '0') > now then
      redis.call('ZADD', KEYS[1], deadline, id)
      redis.call('ZADD', gp .. 'slots:' .. ck, deadline, id)
    else
      lost[#lost + 1] = id
    end
  else
    lost[#lost + 1] = id
  end
end
return lost
