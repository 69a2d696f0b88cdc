--[[ retry-task: an operator sends one failed task back to pending (POST /tasks/{id}/retry).
  KEYS[1] -> task hash
  KEYS[2] -> queue zset of the normal level (a task of another priority goes to level_queue)
  KEYS[3] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> id
  The task becomes pending, due now, with a fresh retry budget (revive_failed); its attempt history
  and its attempts count (the lease token) are kept. Time: Redis' clock (TIME).
  Returns: 1 (sent back), ERR_NOT_FOUND, or the task's status when it is not failed (nothing written).
]]
--- @include "common"
--- @include "task-options"
--- @include "admin"

local id = ARGV[2]
local f = task_hmget(KEYS[1], 'status', 'type', 'created_at', 'priority', 'attempts')
if not f[1] then return ERR_NOT_FOUND end
if f[1] ~= 'failed' then return f[1] end
revive_failed(ARGV[1], KEYS[1], id, f[2], f[3], f[4], f[5], redis_now(), KEYS[2])
redis.call('ZADD', KEYS[3], 0, '0')
flush_events(ARGV[1])
return 1
