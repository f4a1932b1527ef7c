--[[ set-progress: stores the latest progress of running jobs of one queue.
  KEYS[1] active (names the queue's slot; progress only lands on jobs still running)
  ARGV[1] the queue's jobs hash (job-lib.lua), ARGV[2] status channel ("" for none), ARGV[3] queue name
  ARGV[4..] pairs: id, progress JSON ({"fraction":0.5,"message":"..."})
  Returns the number of jobs updated.
]]
--!include job-lib.lua
local jobs = ARGV[1]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local updated = 0
for i = 4, #ARGV, 2 do
  local rec = job_get(jobs, ARGV[i])
  if rec and rec.s == 'running' then
    rec.g, rec.u = ARGV[i + 1], now - rec.n
    job_put(jobs, ARGV[i], rec)
    updated = updated + 1
    if ARGV[2] ~= '' then
      redis.call('PUBLISH', ARGV[2], cjson.encode({ queue = ARGV[3], state = 'progress', ids = { ARGV[i] }, progress = cjson.decode(ARGV[i + 1]) }))
    end
  end
end
return updated
