-- Per-task options (priority, backoff, idempotency keys), shared through `--- @include "task-options"`.
-- Key rules mirror src/queue/queue-keys.ts; option encodings mirror src/queue/task-options.ts.

-- The ready/waiting zset of a priority level. The normal level is the `queue` zset itself (so tasks
-- stored before levels existed keep working); 'high' and 'low' are `queue:high` and `queue:low`, in the
-- same hash tag. `priority` is the task's `priority` field: absent (false) for normal tasks.
local function level_queue(queue_key, priority)
  if priority then return queue_key .. ':' .. priority end
  return queue_key
end

-- Fetch order: every due task of a level goes before any of the next level.
local function level_queues(queue_key)
  return { queue_key .. ':high', queue_key, queue_key .. ':low' }
end

-- A task's `opts` field holds what the worker needs of its own options: '<timeout_ms>|<backoff>', each
-- part empty when unset, the backoff as '<e|f>:<delay_ms>:<max_delay_ms>:<jitter 0|1>' (task-options.ts
-- encodeTaskOptions). It is present exactly when the task has a timeout, a backoff policy or was
-- scheduled (a run_at at creation), so fetch reads one field for all three, and a task without it has
-- no run_at unless it waited for a retry.

-- Delay (ms) before retry n+1 (n = retries already spent) by the task's own backoff policy, or nil when
-- it has none: exponential delay * 2^n or fixed delay, capped at max_delay_ms. No jitter here (the
-- recoverer's delays are deterministic).
local function backoff_delay(opts, retries)
  local kind, delay, max = string.match(opts, '|(%a):(%d+):(%d+)')
  if not kind then return nil end
  delay, max = tonumber(delay), tonumber(max)
  if kind == 'e' then delay = delay * 2 ^ retries end
  return math.min(delay, max)
end

-- Listing index of the tasks of one non-normal priority level; score = creation time (ms).
local function priority_key(base, priority) return base .. 'p:' .. priority end

-- Where an idempotency key remembers the task it created: '<id>|<request hash>', with a TTL.
local function idempotency_key(base, key) return base .. 'idem:' .. key end

-- enqueue's first reply value when an idempotency key conflicts or its task is gone (nothing stored);
-- mirrored by ENQUEUE_IDEMPOTENCY_REJECTED in src/queue/queue.repository.ts.
local ERR_IDEMPOTENCY = -4
