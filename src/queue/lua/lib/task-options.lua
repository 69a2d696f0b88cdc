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

-- Delay (ms) before retry n+1 (n = retries already spent) of a task's own backoff policy, stored as
-- '<e|f>:<delay_ms>:<max_delay_ms>:<jitter 0|1>': exponential delay * 2^n or fixed delay, capped at
-- max_delay_ms. Jitter is not applied here (the recoverer's delays are deterministic).
local function backoff_delay(spec, retries)
  local kind, delay, max = string.match(spec, '^(%a):(%d+):(%d+)')
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
