--[[ queue-overview: what GET /queues and the /metrics gauges show of one queue, read in one snapshot.
  KEYS[1] -> queue zset of the normal level; `queue:high` and `queue:low` are derived from it (level_queues)
  KEYS[2] -> paused flag
  KEYS[3..n] -> the zset counting each status (s:<status>; `active` for processing, which has no
                index; KEYS[1] for pending: every pending task is in the queue zset of its level,
                while s:pending holds only some, PENDING_INDEX in lib/common.lua), in the order the
                caller wants their counts
  Time: Redis' clock (TIME).
  Returns: { paused (0|1), scheduled, oldest_due_age_ms, then the count of each status }
    scheduled: tasks of any level whose run time is after now (delayed, or waiting for a retry);
    oldest_due_age_ms: now minus the earliest run time at or before now over the levels, 0 when none is due.
]]
--- @include "common"
--- @include "task-options"

local now_text = redis_now()
local now = tonumber(now_text)
local scheduled = 0
local queued = 0
local oldest = false
for _, level in ipairs(level_queues(KEYS[1])) do
  queued = queued + redis.call('ZCARD', level)
  scheduled = scheduled + redis.call('ZCOUNT', level, '(' .. now_text, '+inf')
  local head = redis.call('ZRANGE', level, 0, 0, 'WITHSCORES')
  local due = head[2] and tonumber(head[2])
  if due and due <= now and (not oldest or due < oldest) then oldest = due end
end
local out = { redis.call('EXISTS', KEYS[2]), scheduled, oldest and (now - oldest) or 0 }
for i = 3, #KEYS do out[#out + 1] = KEYS[i] == KEYS[1] and queued or redis.call('ZCARD', KEYS[i]) end
return out
