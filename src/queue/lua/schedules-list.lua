--[[ schedules-list: every schedule, oldest first (at most SCHEDULES_MAX exist: schedule-create).
  KEYS[1] -> all zset (score = created_at, ms)
  ARGV[1] -> key base of the schedules; a schedule hash is <base>sc:<id>
  Returns: { id, { field, value, ... }, id, { ... }, ... }
]]
--- @include "schedule"

local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  local h = redis.call('HGETALL', schedule_key(ARGV[1], id))
  if #h > 0 then
    out[#out + 1] = id
    out[#out + 1] = h
  end
end
return out
