--[[ schedule-create: store a new periodic schedule and put it on the due index.
  KEYS[1] -> the schedule hash (sc:<id>)
  KEYS[2] -> due zset (score = next_run, ms; active schedules only)
  KEYS[3] -> all zset (score = created_at, ms; every schedule, for listing)
  ARGV[1] -> id
  ARGV[2] -> most schedules that may exist
  ARGV[3] -> next_run (epoch ms, computed from the cron expression by the caller)
  ARGV[4..] -> the other fields: name, cron, tz, task (field, value pairs)
  Time: created_at is Redis' clock (TIME).
  Returns: created_at (ms), or 0 (nothing stored) when the limit of schedules is reached.
]]
--- @include "common"

local id = ARGV[1]
if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[2]) then return 0 end
local now = redis_now()
redis.call('HSET', KEYS[1], 'next_run', ARGV[3], 'created_at', now, unpack(ARGV, 4))
redis.call('ZADD', KEYS[2], ARGV[3], id)
redis.call('ZADD', KEYS[3], now, id)
return tonumber(now)
