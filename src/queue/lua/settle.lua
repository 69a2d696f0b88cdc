--[[ settle: record how attempts go, each fenced by its lease token (a worker's writes, batched).
  KEYS[1] -> active zset
  KEYS[2] -> queue zset of the normal level; a task of another priority goes back to its own level
             (level_queue: `queue:high` / `queue:low`)
  KEYS[3] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> the settlements, 6 tab-ended fields each: id_bytes, token, mode, delay_ms, detail, text_bytes
             (delay_ms of a 'complete' or 'run': '1' when its payload is large and stays where it is if
             the task is packed, the worker knows its size: copying it through Lua costs more than the
             rest of the completion, about 100 µs for 64 KiB; anything else: the payload is packed as `p`)
  ARGV[3] -> every settlement's id then its text, one after the other (id_bytes and text_bytes long):
             ids and texts may hold any byte, so they are measured, not separated. Two arguments for a
             whole batch: each argument costs the client an encoding and Redis a parse (6 per
             settlement before)
  ARGV[4] -> '1': a task that completes is stored compact (finish, compact_z); '' or absent: in full
             (COMPACT_COMPLETED_TASKS=false, e.g. while processes of an older version still run)
  Per settlement:
    mode 'start':    the handler starts: started_at = now, started = token, worker = detail (the worker
                     slot running it, kept for the attempt history; the task stays processing)
    mode 'complete': processing -> completed, text = result
    mode 'run':      'start' then 'complete' of the same attempt in one settlement (detail = the worker, text =
                     the result): what a worker sends when both are in one batch (a short handler), so
                     the task is read and fenced once; it writes and publishes exactly what the two would
    mode 'retry':    processing -> pending until now + delay_ms (run_at), spends a retry, text = error
    mode 'fail':     processing -> failed, text = error
    mode 'requeue':  processing -> pending at once, no retry spent (shutdown, prefetch handed back)
    detail of 'retry' and 'fail': 'timeout' when the handler ran out of time (history outcome 'timeout').
  Every mode but a repeated 'start' publishes the task's event (publish_event, one PUBLISH per call)
  and every mode but 'start' records the ended attempt in the task's history (history_fields,
  history_archive): completed | retry | failed | timeout | requeued; a completed task's is the task
  itself (no h_* field: history_clear, or finish when it packs the task, compact_z in lib/common.lua).
  Time: Redis' clock (TIME), one reading for the whole call.
  Counts the completed and failed tasks of the call in `stat:<minute>` (flush_counts, one HINCRBY per
  outcome per call).
  Returns: one code per settlement, in order: 1 (applied), or ERR_NOT_FOUND (deleted) / ERR_LEASE_LOST (the
    lease was recovered or re-leased: this worker's write is discarded and the task is not touched).
    A write that was applied once already (a retried call whose reply was lost) is recognised and
    answers 1 again without writing: same token (attempts), and the task is in the state this mode
    leaves it in (completed with this result; failed with this error; pending with this error and a
    run_at; pending without run_at; for 'start', still processing with started = token). The
    recoverer writes its own error text, so its work is not taken for ours.
]]
--- @include "common"
--- @include "task-options"

-- Whether the task already shows this attempt's write of `mode` (called only when the lease check
-- fails; a repeated 'start' passes the lease check and is handled there), and the fields read (for
-- repair_applied).
local function applied_before(key, token, mode, text)
  local f = task_hmget(key, 'status', 'attempts', 'result', 'error', 'run_at', 'updated_at', 'created_at', 'priority')
  if f[2] ~= token then return false end
  if mode == 'complete' or mode == 'run' then return f[1] == 'completed' and f[3] == text, f end
  if mode == 'fail' then return f[1] == 'failed' and f[4] == text, f end
  -- A retry leaves run_at; a requeue (ours, or the recoverer's of a task that never started, which
  -- comes to the same) does not, and the recoverer's retry carries its own error text.
  if mode == 'retry' then return f[1] == 'pending' and f[4] == text and f[5] ~= false, f end
  if mode == 'requeue' then return f[1] == 'pending' and f[5] == false, f end
  return false
end

-- The sorted-set writes of an applied settlement, made again (each a no-op when it was made): the
-- call that applied it may have stopped before them. In Redis Cluster, while the slot migrates, a
-- script is refused at its first command on a key that is not on this node, after the writes before
-- it (the task's own, here; a finished task's index writes wait for flush_finished). Without this a
-- repeat left a finished task in `active` and out of its index, and a retried one out of every queue.
-- f: applied_before's fields (6 updated_at, 5 run_at, 7 created_at, 8 priority).
local function repair_applied(base, id, mode, f)
  -- A task stored without a creation or update time (none is written so) still gets a score.
  local created, updated = f[7] or f[6] or '0', f[6] or f[7] or '0'
  redis.call('ZREM', KEYS[1], id)
  if mode == 'retry' or mode == 'requeue' then
    redis.call('ZADD', level_queue(KEYS[2], f[8]), 'NX', mode == 'retry' and f[5] or created, id)
    -- A requeued task is listed from its queue zset (PENDING_INDEX in lib/common.lua).
    if mode == 'retry' then redis.call('ZADD', status_key(base, 'pending'), 'NX', created, id) end
  else
    redis.call('ZADD', status_key(base, mode == 'fail' and 'failed' or 'completed'), 'NX', updated, id)
  end
end

local base = ARGV[1]
local blob = ARGV[3]
local compact = ARGV[4] == '1'
local at = 1 -- where the next id starts in blob
local now = redis_now()
local codes = {}
local wake = false
for id_bytes, token, mode, delay, detail, text_bytes in string.gmatch(ARGV[2], '([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t') do
  local id = string.sub(blob, at, at + id_bytes - 1)
  at = at + id_bytes
  local text = string.sub(blob, at, at + text_bytes - 1)
  at = at + text_bytes
  local key = task_key(base, id)
  local completes = compact and (mode == 'complete' or mode == 'run')
  local rc, task_type, created, started, ended, lease = check_lease(key, token, completes, completes and delay == '1')
  if rc == 0 then
    -- A 'run' whose start archives nothing writes its start fields with the completion's HSET
    -- (one write of the hash, not two; nothing reads them in between: the archive below reads
    -- `started` only when the last ended attempt had started, and then the start archived it).
    local start_fields
    if mode == 'start' or mode == 'run' then
      -- Idempotent: a repeated start keeps the first start time.
      if started ~= token then
        if history_held(ended) and started == ended then
          -- This start overwrites the last ended attempt's start time and worker: archive it first.
          history_archive(base, key, id, ended)
          redis.call('HSET', key, 'started_at', now, 'started', token, 'worker', detail, 'h_attempt', '')
          ended = ''
          if lease then lease[9], lease[5], lease[10] = now, token, detail end
        elseif mode == 'run' then
          start_fields = { 'started_at', now, 'started', token, 'worker', detail }
        else
          redis.call('HSET', key, 'started_at', now, 'started', token, 'worker', detail)
        end
        publish_event(id, 'processing', token)
      end
      if mode == 'run' then mode = 'complete' end
    end
    if mode ~= 'start' then
      history_archive(base, key, id, ended)
      if mode == 'complete' then
        -- The completing attempt is read from the task itself: no h_* field (finish drops them when
        -- it packs the task).
        if not lease then history_clear(key, ended) end
        finish(base, key, id, 'completed', text, now, KEYS[1], start_fields, lease)
        publish_event(id, 'completed', token)
      elseif mode == 'retry' then
        -- The backoff counts from this write, so run_at - updated_at is exactly the delay.
        local level = level_queue(KEYS[2], redis.call('HGET', key, 'priority'))
        schedule_retry(base, key, id, task_type, created, text, now, now + tonumber(delay), level, KEYS[1],
          history_fields(token, detail == 'timeout' and 'timeout' or 'retry', now, '='))
        publish_event(id, 'retrying', token)
        wake = true
      elseif mode == 'fail' then
        finish(base, key, id, 'failed', text, now, KEYS[1],
          history_fields(token, detail == 'timeout' and 'timeout' or 'failed', now, '='))
        publish_event(id, 'failed', token)
      else
        requeue(base, key, id, task_type, created, now, level_queue(KEYS[2], redis.call('HGET', key, 'priority')), KEYS[1],
          history_fields(token, 'requeued', now, ''))
        publish_event(id, 'pending', token)
        wake = true
      end
    end
    rc = 1
  elseif rc == ERR_LEASE_LOST then
    local applied, f = applied_before(key, token, mode, text)
    if applied then
      repair_applied(base, id, mode, f)
      rc = 1
    end
  end
  codes[#codes + 1] = rc
end
if wake then redis.call('ZADD', KEYS[3], 0, '0') end
flush_finished()
flush_counts(base, now)
flush_events(base)
return codes
