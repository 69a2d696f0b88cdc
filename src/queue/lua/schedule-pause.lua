--[[ schedule-pause: pause or resume a schedule.
  KEYS[1] -> the schedule hash (sc:<id>)
  KEYS[2] -> due zset (score = next_run, ms)
  ARGV[1] -> id
  ARGV[2] -> '1' pause, '0' resume
  ARGV[3] -> resume only: the next run (ms) from now, computed by the caller
  Pausing takes the schedule off the due index (no process looks at it until it is resumed). Resuming
  a paused schedule sets the next run given (ticks that passed while paused are not caught up);
  resuming an active one, or pausing a paused one, changes nothing.
  Returns: the schedule's fields { field, value, ... } after the change; empty when there is none.
]]
local f = redis.call('HMGET', KEYS[1], 'next_run', 'paused')
if not f[1] then return {} end
if ARGV[2] == '1' then
  redis.call('HSET', KEYS[1], 'paused', '1')
  redis.call('ZREM', KEYS[2], ARGV[1])
elseif f[2] == '1' then
  redis.call('HSET', KEYS[1], 'paused', '0', 'next_run', ARGV[3])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return redis.call('HGETALL', KEYS[1])
