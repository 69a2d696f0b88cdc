--[[ complete: processing -> completed, fenced by the lease token.
  KEYS[1] -> task hash
  KEYS[2] -> active zset
  KEYS[3] -> done zset (score = finish time, drives retention)
  ARGV[1] -> key base of the queue
  ARGV[2] -> id
  ARGV[3] -> token
  ARGV[4] -> result
  ARGV[5] -> now (ms)
  Returns: 1, or ERR_NOT_FOUND (deleted) / ERR_LEASE_LOST (lease recovered or re-leased).
]]
--- @include "common"

local key, id, now = KEYS[1], ARGV[2], ARGV[5]
local rc = check_lease(key, KEYS[2], id, ARGV[3])
if rc ~= 0 then return rc end
local f = redis.call('HMGET', key, 'type', 'created_at')
redis.call('HSET', key, 'status', 'completed', 'result', ARGV[4], 'completed_at', now, 'updated_at', now)
redis.call('ZREM', KEYS[2], id)
index_move(ARGV[1], id, f[1], 'processing', 'completed', f[2])
redis.call('ZADD', KEYS[3], now, id)
return 1
