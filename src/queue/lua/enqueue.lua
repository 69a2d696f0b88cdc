--[[ enqueue: store one or more new tasks and make them ready, all or nothing.
  KEYS[1] -> queue zset (score = time the task may run)
  KEYS[2] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2..] -> groups of 4: id, type, payload, max_retry
  Time: Redis' clock (TIME); every task of the call gets the same created_at.
  Returns: created_at (ms) of the tasks stored, or ERR_DUPLICATE_ID (nothing stored) if any id exists
    already or appears twice in the batch.
]]
--- @include "common"

local base = ARGV[1]
local seen = {}
for i = 2, #ARGV, 4 do
  local id = ARGV[i]
  if seen[id] or redis.call('EXISTS', task_key(base, id)) == 1 then return ERR_DUPLICATE_ID end
  seen[id] = true
end
local now = redis_now()
for i = 2, #ARGV, 4 do
  local id, task_type = ARGV[i], ARGV[i + 1]
  redis.call('HSET', task_key(base, id),
    'type', task_type, 'payload', ARGV[i + 2], 'status', 'pending',
    'retries', 0, 'max_retry', ARGV[i + 3], 'attempts', 0,
    'created_at', now, 'updated_at', now)
  redis.call('ZADD', KEYS[1], now, id)
  index_add(base, id, task_type, 'pending', now)
end
redis.call('ZADD', KEYS[2], 0, '0')
return tonumber(now)
