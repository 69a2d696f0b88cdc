--[[ fail: end an attempt that did not succeed, fenced by the lease token.
  KEYS[1] -> task hash
  KEYS[2] -> active zset
  KEYS[3] -> queue zset
  KEYS[4] -> done zset
  KEYS[5] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> id
  ARGV[3] -> token
  ARGV[4] -> mode: 'retry' (spend a retry, wait until run_at), 'fail' (terminal),
             'requeue' (back to pending at once without spending a retry: graceful shutdown)
  ARGV[5] -> error message ('' keeps the previous one: requeue)
  ARGV[6] -> now (ms)
  ARGV[7] -> run_at (ms), for 'retry'
  Returns: 1, or ERR_NOT_FOUND / ERR_LEASE_LOST.
]]
--- @include "common"

local key, id, mode, err, now = KEYS[1], ARGV[2], ARGV[4], ARGV[5], ARGV[6]
local rc = check_lease(key, KEYS[2], id, ARGV[3])
if rc ~= 0 then return rc end
local f = redis.call('HMGET', key, 'type', 'created_at')
if mode == 'retry' then
  schedule_retry(ARGV[1], key, id, f[1], f[2], err, now, ARGV[7], KEYS[3], KEYS[2], KEYS[5])
elseif mode == 'fail' then
  finish_failed(ARGV[1], key, id, f[1], f[2], err, now, KEYS[2], KEYS[4])
else
  -- Requeued at its creation time so it goes ahead of tasks that arrived after it.
  redis.call('HSET', key, 'status', 'pending', 'updated_at', now)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZADD', KEYS[3], f[2], id)
  index_move(ARGV[1], id, f[1], 'processing', 'pending', f[2])
  redis.call('ZADD', KEYS[5], 0, '0')
end
return 1
