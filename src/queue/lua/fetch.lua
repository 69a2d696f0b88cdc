--[[ fetch: lease up to N due tasks (pending -> processing).
  KEYS[1] -> queue zset (score = time the task may run)
  KEYS[2] -> active zset (score = lease deadline)
  KEYS[3] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> now (ms)
  ARGV[3] -> lease deadline (ms)
  ARGV[4] -> max number of tasks to lease
  Returns: { next_run_at, then per leased task: id, token, type, payload, retries, max_retry }
    next_run_at = score of the earliest task still queued after this call, or -1 when none is.
]]
--- @include "common"

local base, now, deadline = ARGV[1], ARGV[2], ARGV[3]
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[4]))
local out = { -1 }
for _, id in ipairs(ids) do
  redis.call('ZREM', KEYS[1], id)
  local key = task_key(base, id)
  local f = redis.call('HMGET', key, 'type', 'payload', 'retries', 'max_retry', 'created_at', 'status')
  -- A queue entry whose task is gone or not pending is stale; dropping it is the repair.
  if f[1] and f[6] == 'pending' then
    local token = redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('HSET', key, 'status', 'processing', 'started_at', now, 'updated_at', now)
    -- Only a task waiting for a retry has a run_at.
    if f[3] ~= '0' then redis.call('HDEL', key, 'run_at') end
    redis.call('ZADD', KEYS[2], deadline, id)
    index_move(base, id, f[1], 'pending', 'processing', f[5])
    out[#out + 1] = id
    out[#out + 1] = token
    out[#out + 1] = f[1]
    out[#out + 1] = f[2]
    out[#out + 1] = f[3]
    out[#out + 1] = f[4]
  end
end
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if head[2] then
  out[1] = tonumber(head[2])
  -- More is ready than this worker took: wake another idle worker.
  if tonumber(head[2]) <= tonumber(now) then redis.call('ZADD', KEYS[3], 0, '0') end
end
return out
