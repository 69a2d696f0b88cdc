-- Key rules of the schedules (`--- @include "schedule"`), mirroring ScheduleKeys in src/queue/queue-keys.ts:
-- every key starts with the schedules' base `<prefix>:{_schedules}:`, one hash tag (one Cluster slot)
-- for all of them, which no queue can share (a queue name never starts with `_`).
local function schedule_key(base, id) return base .. 'sc:' .. id end
