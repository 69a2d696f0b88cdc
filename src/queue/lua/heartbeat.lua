--[[ heartbeat: extend the leases of running tasks that this worker still holds.
  KEYS[1] -> active zset (score = lease deadline)
  ARGV[1] -> key base of the queue
  ARGV[2] -> lease length (ms): new deadline = now + this (Redis' clock, TIME)
  ARGV[3..] -> pairs: id, token
  Returns: flat list of the id, token pairs whose lease is lost (task deleted, recovered by another
    process, or re-leased), so a worker holding two attempts of one id knows which one to stop.
]]
--- @include "common"

local base = ARGV[1]
local deadline = ms_string(redis_now() + tonumber(ARGV[2]))
local lost = {}
for i = 3, #ARGV, 2 do
  local id, token = ARGV[i], ARGV[i + 1]
  if check_lease(task_key(base, id), token) == 0 then
    -- Plain ZADD: a held lease whose entry went missing is restored rather than left unrecoverable.
    redis.call('ZADD', KEYS[1], deadline, id)
  else
    lost[#lost + 1] = id
    lost[#lost + 1] = token
  end
end
return lost
