--[[ worker-beat: a worker process says it is alive (GET /workers), every TASK_LEASE_MS / 3.
  KEYS[1] -> index zset of worker processes (score = when its entry expires, ms)
  KEYS[2] -> this process's hash
  ARGV[1] -> process id (member of the index)
  ARGV[2] -> time to live (ms): the hash expires, and the index entry counts as gone, this long after the beat
  ARGV[3..] -> field, value pairs describing the process (host, pid, role, queues, ...)
  Writes last_heartbeat_at = now; drops the index entries of processes whose time ran out. Both keys
  carry the workers' own hash tag (one slot, apart from every queue). Time: Redis' clock (TIME).
  Returns: now (ms).
]]
--- @include "common"

local now = redis_now()
local ttl = tonumber(ARGV[2])
redis.call('HSET', KEYS[2], 'last_heartbeat_at', now, unpack(ARGV, 3))
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], ms_string(now + ttl), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
return now
