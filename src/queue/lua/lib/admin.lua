-- Transitions an operator asks for (retry-task, retry-failed, delete-finished) and retention
-- (purge-expired), shared through `--- @include "admin"` after "common" and "task-options".

-- Removes a finished (completed or failed) task from every structure: its status index entry (and the
-- status+type one a task finished before has, index_remove), its priority index entry, the done zset,
-- its hash and its attempt history.
local function remove_finished(base, key, id, status, task_type, priority, done_key)
  index_remove(base, id, task_type, status)
  if priority then redis.call('ZREM', priority_key(base, priority), id) end
  redis.call('DEL', key, history_key(base, id))
  redis.call('ZREM', done_key, id)
end

-- failed -> pending, due now, with a fresh retry budget (retries and stalls back to 0). `attempts`
-- (the lease token) keeps growing, so a late write of an earlier attempt stays fenced off; the error
-- of the last attempt stays, as on any task waiting for a retry, and that attempt stays in the hash's
-- h_* fields until the next one moves it to the history (history_archive). Publishes 'pending'; the
-- caller sets the wake-up marker once.
local function revive_failed(base, key, id, task_type, created, priority, attempts, now, queue_key, done_key)
  redis.call('HSET', key, 'status', 'pending', 'retries', 0, 'stalls', 0, 'updated_at', now)
  redis.call('HDEL', key, 'completed_at', 'run_at')
  redis.call('ZREM', done_key, id)
  redis.call('ZADD', level_queue(queue_key, priority), now, id)
  index_move(base, id, task_type, 'failed', 'pending', created)
  publish_event(id, 'pending', attempts)
end
