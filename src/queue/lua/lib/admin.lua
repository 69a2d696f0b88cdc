-- Transitions an operator asks for (retry-task, retry-failed, delete-finished) and retention
-- (purge-expired), shared through `--- @include "admin"` after "common" and "task-options".

-- Removes a finished (completed or failed) task from every structure: its status index entry (and the
-- status+type one a task finished before has, index_remove), its priority index entry, its hash and
-- its attempt history. (An entry a process of the old version put in the legacy `done` zset is left
-- to recover.lua, which drops entries whose task left the status indexes.)
local function remove_finished(base, key, id, status, task_type, priority)
  index_remove(base, id, task_type, status)
  if priority then redis.call('ZREM', priority_key(base, priority), id) end
  redis.call('DEL', key, history_key(base, id))
end

-- When a finished task finished (epoch ms, as stored), from its completed_at and updated_at fields:
-- completed_at when the task was written before that field was dropped (see finish in common).
local function finish_time(completed_at, updated_at)
  return completed_at or updated_at
end

-- Whether a finished task, finished at `finished_at`, is due for removal at `cutoff` (finished at or
-- before it). Its entry in `index_key` was read at or before the cutoff; when the task finished later,
-- the entry was scored by creation time by a process of the old version (see recover.lua): it takes
-- the finish time now (ZADD XX), so it leaves the range the caller walks, and the task is kept.
-- Retention and `olderThan` thereby always count from the finish time.
local function due_by_finish(index_key, id, finished_at, cutoff)
  if finished_at and tonumber(finished_at) > tonumber(cutoff) then
    redis.call('ZADD', index_key, 'XX', finished_at, id)
    return false
  end
  return true
end

-- failed -> pending, due now, with a fresh retry budget (retries and stalls back to 0). `attempts`
-- (the lease token) keeps growing, so a late write of an earlier attempt stays fenced off; the error
-- of the last attempt stays, as on any task waiting for a retry, and that attempt stays in the hash's
-- h_* fields until the next one moves it to the history (history_archive). Publishes 'pending'; the
-- caller sets the wake-up marker once. The ZREM of the legacy `done` zset (a no-op once it is gone)
-- keeps recover.lua from moving a finish time the task no longer has into s:failed later.
local function revive_failed(base, key, id, task_type, created, priority, attempts, now, queue_key)
  redis.call('HSET', key, 'status', 'pending', 'retries', 0, 'stalls', 0, 'updated_at', now)
  redis.call('HDEL', key, 'completed_at', 'run_at')
  redis.call('ZREM', base .. 'done', id)
  redis.call('ZADD', level_queue(queue_key, priority), now, id)
  index_move(base, id, task_type, 'failed', 'pending', created)
  publish_event(id, 'pending', attempts)
end
