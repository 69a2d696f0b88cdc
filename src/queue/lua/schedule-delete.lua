--[[ schedule-delete: remove a schedule; tasks it already created stay.
  KEYS[1] -> the schedule hash (sc:<id>)
  KEYS[2] -> due zset
  KEYS[3] -> all zset
  ARGV[1] -> id
  Returns: 1, or 0 when there is no such schedule.
]]
if redis.call('DEL', KEYS[1]) == 0 then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
