--[[ schedule-advance: move schedules on to their next run once their tick's task was submitted.
  KEYS[1] -> due zset (score = next_run, ms)
  ARGV[1] -> key base of the schedules; a schedule hash is <base>sc:<id>
  ARGV[2..] -> groups of 4: id, next_run as read (ms), new next_run (ms), the tick just fired (ms)
  Compare and set: a group applies only when the schedule still exists and its next_run is still the
  one read, so when several processes fired the same tick (the enqueue's idempotency key made all but
  one of them replays) exactly one moves it on, and a schedule deleted meanwhile is not brought back.
  last_run never goes back. A paused schedule keeps off the due index.
  Returns: per group, 1 (applied) or 0.
]]
--- @include "schedule"

local out = {}
for i = 2, #ARGV, 4 do
  local id, expected, next_run, fired = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local key = schedule_key(ARGV[1], id)
  local f = redis.call('HMGET', key, 'next_run', 'last_run', 'paused')
  if f[1] ~= expected then
    out[#out + 1] = 0
  else
    if not f[2] or tonumber(f[2]) < tonumber(fired) then
      redis.call('HSET', key, 'next_run', next_run, 'last_run', fired)
    else
      redis.call('HSET', key, 'next_run', next_run)
    end
    if f[3] ~= '1' then redis.call('ZADD', KEYS[1], next_run, id) end
    out[#out + 1] = 1
  end
end
return out
