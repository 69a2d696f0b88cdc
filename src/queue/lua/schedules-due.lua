--[[ schedules-due: the active schedules whose next run has come, by Redis' clock.
  KEYS[1] -> due zset (score = next_run, ms)
  ARGV[1] -> key base of the schedules (<prefix>:{_schedules}:); a schedule hash is <base>sc:<id>
  ARGV[2] -> most schedules to return
  Returns: { now (ms), next (ms: the earliest next_run still ahead, -1 when none), id, { field, value,
    ... }, id, { ... }, ... } for up to ARGV[2] schedules with next_run <= now, earliest first. Read
    only: firing one is the caller's enqueue (idempotent per tick) followed by schedule-advance.
  A due entry without its hash (not expected: delete removes both) is dropped.
]]
--- @include "common"
--- @include "schedule"

local now = redis_now()
local out = { tonumber(now), -1 }
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(ids) do
  local h = redis.call('HGETALL', schedule_key(ARGV[1], id))
  if #h == 0 then
    redis.call('ZREM', KEYS[1], id)
  else
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
local later = redis.call('ZRANGE', KEYS[1], '(' .. now, '+inf', 'BYSCORE', 'LIMIT', 0, 1, 'WITHSCORES')
if #later > 0 then out[2] = tonumber(later[2]) end
return out
