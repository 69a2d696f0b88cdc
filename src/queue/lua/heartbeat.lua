--[[ heartbeat: extend the leases of running tasks that this worker still holds.
  KEYS[1] -> active zset (score = lease deadline)
  ARGV[1] -> key base of the queue
  ARGV[2] -> new lease deadline (ms)
  ARGV[3..] -> pairs: id, token
  Returns: ids whose lease is lost (task deleted, recovered by another process, or re-leased).
]]
--- @include "common"

local base, deadline = ARGV[1], ARGV[2]
local lost = {}
for i = 3, #ARGV, 2 do
  local id = ARGV[i]
  if check_lease(task_key(base, id), ARGV[i + 1]) == 0 then
    -- Plain ZADD: a held lease whose entry went missing is restored rather than left unrecoverable.
    redis.call('ZADD', KEYS[1], deadline, id)
  else
    lost[#lost + 1] = id
  end
end
return lost
