--[[ recover: end attempts whose lease expired (the worker died, froze or lost Redis).
  KEYS[1] -> active zset (score = lease deadline)
  KEYS[2] -> queue zset of the normal level; a task of another priority goes back to its own level
             (level_queue: `queue:high` / `queue:low`)
  KEYS[3] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> max number of leases to recover in this call
  ARGV[3] -> error message recorded on a task whose attempt is counted as failed
  ARGV[4] -> max stalls: leases that may expire before the task's handler ever started
  ARGV[5..] -> backoff delay (ms) before retry n+1, for n = 0, 1, 2, ... retries already spent; a task
               with its own backoff policy (in its `opts` field) waits by that policy instead, without jitter
  Time: Redis' clock (TIME): a lease is expired when its deadline <= now.
  An attempt whose handler started (settle 'start': started = attempts) counts as a failed attempt:
  retry with backoff, or failed when its retries are spent. One that never started (leased, then the
  worker died with it in its prefetch buffer, or the fetch reply was lost) spends no retry: it goes
  back to pending at once, queued at its creation time, and `stalls` counts it; the stall that would
  exceed the max fails the task ("lease expired <n> times before the task started: worker lost"), so a
  task that kills its worker before it starts cannot loop forever.
  Every recovered attempt (not a dropped entry) is recorded in the task's history as 'lost' (with the
  start time and worker of a started attempt) and its new state is published (publish_event, one
  PUBLISH per call).
  Tasks failed here are counted in `stat:<minute>` (flush_counts).
  Returns: { next_deadline_in_ms, then per lease: id, outcome ('retry' | 'failed' | 'stalled' |
    'dropped'), retries spent after it }. next_deadline_in_ms = ms until the earliest lease still in
    `active` after this call expires (<= 0 when one already has: more than `max` were due, or when
    the legacy `done` zset still holds entries to move, below), or 'none' when `active` is empty; the recoverer sleeps until then instead of polling an idle queue.
]]
--- @include "common"
--- @include "task-options"

local base, err, max_stalls = ARGV[1], ARGV[3], tonumber(ARGV[4])
local now = redis_now()

-- Processing tasks had listing indexes, s:processing and st:processing:<type>, before they were listed
-- from `active`. A deployment upgraded in place still holds them, and a process of the old version adds
-- to them during a rolling upgrade; nothing reads them now, so they are dropped here, up to 1000 tasks'
-- entries per call (one EXISTS when there are none). The types come from the tasks of s:processing: the
-- old scripts wrote both indexes together.
local legacy = status_key(base, 'processing')
if redis.call('EXISTS', legacy) == 1 then
  local stale = redis.call('ZRANGE', legacy, 0, 999)
  local types = {}
  for _, id in ipairs(stale) do
    local task_type = task_hmget(task_key(base, id), 'type')[1]
    if task_type and not types[task_type] then
      types[task_type] = true
      redis.call('DEL', status_type_key(base, 'processing', task_type))
    end
  end
  redis.call('ZREM', legacy, unpack(stale))
end
-- Finished tasks were in a zset of their own, `done` (score = finish time, which drove retention),
-- beside their status index (score = creation time), before that index took the finish time and the
-- role. A deployment upgraded in place still holds `done`, and a process of the old version adds to it
-- (and to the status indexes by creation time) during a rolling upgrade. Its scores move here into
-- the status indexes, up to 1000 entries per call (one EXISTS when there are none), so that listing
-- and retention see every finished task by its finish time: ZADD XX, which writes only the index
-- holding the task (an entry whose task left both is just dropped). The last ZREM deletes `done`.
local legacy_done = base .. 'done'
local migrating = false
if redis.call('EXISTS', legacy_done) == 1 then
  local entries = redis.call('ZRANGE', legacy_done, 0, 999, 'WITHSCORES')
  local moved = {}
  migrating = #entries == 2000
  for j = 1, #entries, 2 do
    redis.call('ZADD', status_key(base, 'completed'), 'XX', entries[j + 1], entries[j])
    redis.call('ZADD', status_key(base, 'failed'), 'XX', entries[j + 1], entries[j])
    moved[#moved + 1] = entries[j]
  end
  redis.call('ZREM', legacy_done, unpack(moved))
end
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[2]))
local out = {}
local wake = false
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = redis.call('HMGET', key, 'status', 'type', 'created_at', 'retries', 'max_retry', 'attempts', 'started', 'stalls',
    'priority', 'opts', 'h_attempt')
  -- A task may leave out retries (and attempts, updated_at) while they hold their defaults.
  local retries = tonumber(f[4]) or 0
  if f[1] ~= 'processing' then
    -- A lease entry without a running task behind it: drop the entry, the task is elsewhere or gone.
    redis.call('ZREM', KEYS[1], id)
    out[#out + 1] = id; out[#out + 1] = 'dropped'; out[#out + 1] = -1
  elseif f[7] ~= f[6] then
    local stalls = (tonumber(f[8]) or 0) + 1
    redis.call('HSET', key, 'stalls', stalls)
    history_archive(base, key, id, f[11])
    if stalls > max_stalls then
      local lost = 'lease expired ' .. stalls .. ' times before the task started: worker lost'
      finish(base, key, id, 'failed', lost, now, KEYS[1], history_fields(f[6], 'lost', now, '='))
      publish_event(id, 'failed', f[6])
      out[#out + 1] = id; out[#out + 1] = 'failed'; out[#out + 1] = retries
    else
      requeue(base, key, id, f[2], f[3], now, level_queue(KEYS[2], f[9]), KEYS[1],
        history_fields(f[6], 'lost', now, 'lease expired before the task started'))
      publish_event(id, 'pending', f[6])
      out[#out + 1] = id; out[#out + 1] = 'stalled'; out[#out + 1] = retries
      wake = true
    end
  elseif retries < (tonumber(f[5]) or 0) then
    local delay = f[10] and backoff_delay(f[10], retries) or tonumber(ARGV[5 + retries] or ARGV[#ARGV])
    history_archive(base, key, id, f[11])
    schedule_retry(base, key, id, f[2], f[3], err, now, now + delay, level_queue(KEYS[2], f[9]), KEYS[1],
      history_fields(f[6], 'lost', now, '='))
    publish_event(id, 'retrying', f[6])
    out[#out + 1] = id; out[#out + 1] = 'retry'; out[#out + 1] = retries + 1
    wake = true
  else
    history_archive(base, key, id, f[11])
    finish(base, key, id, 'failed', err, now, KEYS[1], history_fields(f[6], 'lost', now, '='))
    publish_event(id, 'failed', f[6])
    out[#out + 1] = id; out[#out + 1] = 'failed'; out[#out + 1] = retries
  end
end
-- Wake one idle worker so it recomputes how long to block for the earliest waiting task.
if wake then redis.call('ZADD', KEYS[3], 0, '0') end
flush_finished()
flush_counts(base, now)
flush_events(base)
local head = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local next_in = head[2] and (tonumber(head[2]) - tonumber(now)) or 'none'
-- More of `done` to move: call again soon (as when more leases were due), not after an idle sleep.
if migrating then next_in = 0 end
table.insert(out, 1, next_in)
return out
