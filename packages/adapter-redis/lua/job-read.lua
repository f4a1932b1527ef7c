--[[ job-read: the records of jobs of one queue, for readers outside Lua (lookup.ts).
  KEYS[1] the queue's jobs hash (job-lib.lua)
  ARGV[1..] ids
  Returns one entry per id: the record as the old layout's hash fields, flat
  (`job_fields`), or an empty list when the queue holds no such job.
]]
--!include job-lib.lua
local out = {}
for i = 1, #ARGV do
  local rec = job_get(KEYS[1], ARGV[i])
  if rec then out[i] = job_fields(rec) else out[i] = {} end
end
return out
