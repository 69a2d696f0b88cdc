--[[ fetch: lease up to N due tasks (pending -> processing), higher priority levels first.
  KEYS[1] -> queue zset of the normal level (score = time the task may run); `queue:high` and
             `queue:low` are derived from it (level_queues)
  KEYS[2] -> active zset (score = lease deadline)
  KEYS[3] -> wake-up marker zset
  KEYS[4] -> paused flag: while it exists nothing is leased (POST /queues/{name}/pause)
  ARGV[1] -> key base of the queue
  ARGV[2] -> lease length (ms): deadline = now + this
  ARGV[3] -> max number of tasks to lease
  ARGV[4] -> byte budget: no further task is leased once the payloads leased by this call reach it
             (the first always is); 0 = none
  Order: every due task of `queue:high`, then of `queue`, then of `queue:low`; by score (due time)
  within a level. Strict: a lower level waits while a higher one has due tasks.
  Time: Redis' clock (TIME). Leasing is not starting: started_at is written by settle 'start' when a
  handler actually starts, so an expired lease whose task never started costs no retry (recover.lua).
  Returns: { next_run_in_ms, then per leased task: id, token, type, payload, retries, max_retry, opts,
    waited_ms, age_ms }
    (opts: the task's `opts` field, '<timeout_ms>|<backoff>', or '' when it has none; waited_ms: now
    minus its score, how long it was due; age_ms: now minus created_at)
    next_run_in_ms = ms until the earliest task still queued at any level after this call may run (0
    when one is due now), or -1 when none is queued or the queue is paused (resume sets the marker).
]]
--- @include "common"
--- @include "task-options"

if redis.call('EXISTS', KEYS[4]) == 1 then return { -1 } end
local base = ARGV[1]
local now = redis_now()
local now_ms = tonumber(now)
local deadline = ms_string(now + tonumber(ARGV[2]))
local max = tonumber(ARGV[3])
local max_bytes = tonumber(ARGV[4]) or 0
-- Most queues never see a high or low task: then one EXISTS replaces four reads of empty levels.
local levels = { KEYS[1] }
if redis.call('EXISTS', KEYS[1] .. ':high', KEYS[1] .. ':low') > 0 then levels = level_queues(KEYS[1]) end
-- The sorted-set writes of the call go out together, one command per key for all its tasks (a
-- redis.call costs about as much as the write it carries), in chunks of at most 1000 arguments.
local function batched(command, key, args)
  for i = 1, #args, 1000 do
    redis.call(command, key, unpack(args, i, math.min(i + 999, #args)))
  end
end
local out = { -1 }
local bytes = 0
local taken = 0
local leases = {} -- deadline, id pairs for `active`
local leased = {} -- ids leaving s:pending
local leased_by_type = {} -- type -> ids leaving st:pending:<type>
for _, level in ipairs(levels) do
  if taken >= max or (max_bytes > 0 and bytes >= max_bytes) then break end
  local due = redis.call('ZRANGE', level, '-inf', now, 'BYSCORE', 'LIMIT', 0, max - taken, 'WITHSCORES')
  local taken_here = {}
  for j = 1, #due, 2 do
    local id = due[j]
    if max_bytes > 0 and bytes >= max_bytes then break end
    taken = taken + 1
    taken_here[#taken_here + 1] = id
    local key = task_key(base, id)
    local f = redis.call('HMGET', key, 'type', 'payload', 'retries', 'max_retry', 'created_at', 'status', 'opts', 'attempts')
    -- A queue entry whose task is gone or not pending is stale; dropping it is the repair.
    if f[1] and f[6] == 'pending' then
      -- The lease token: attempts + 1, written by the same HSET (one call, not HINCRBY and HSET).
      local token = (tonumber(f[8]) or 0) + 1
      redis.call('HSET', key, 'status', 'processing', 'updated_at', now, 'attempts', token)
      -- Only a task that waited for a retry or was scheduled (which gives it opts) has a run_at.
      if f[3] ~= '0' or f[7] then redis.call('HDEL', key, 'run_at') end
      -- Into `active`, out of the pending listing indexes (processing has none: index_add).
      leases[#leases + 1] = deadline
      leases[#leases + 1] = id
      leased[#leased + 1] = id
      local of_type = leased_by_type[f[1]]
      if not of_type then
        of_type = {}
        leased_by_type[f[1]] = of_type
      end
      of_type[#of_type + 1] = id
      bytes = bytes + #f[2]
      out[#out + 1] = id
      out[#out + 1] = token
      out[#out + 1] = f[1]
      out[#out + 1] = f[2]
      out[#out + 1] = f[3]
      out[#out + 1] = f[4]
      out[#out + 1] = f[7] or ''
      -- For the metrics, by Redis' clock: how long it was due, how old it is (ms).
      out[#out + 1] = now_ms - tonumber(due[j + 1])
      out[#out + 1] = now_ms - (tonumber(f[5]) or now_ms)
    end
  end
  -- Every entry taken leaves its level, a stale one too.
  batched('ZREM', level, taken_here)
end
batched('ZADD', KEYS[2], leases)
batched('ZREM', status_key(base, 'pending'), leased)
for task_type, ids in pairs(leased_by_type) do batched('ZREM', status_type_key(base, 'pending', task_type), ids) end
local wait = false
for _, level in ipairs(levels) do
  local head = redis.call('ZRANGE', level, 0, 0, 'WITHSCORES')
  if head[2] then
    local w = tonumber(head[2]) - tonumber(now)
    if not wait or w < wait then wait = w end
  end
end
if wait then
  if wait <= 0 then
    out[1] = 0
    -- More is ready than this worker took: wake another idle worker.
    redis.call('ZADD', KEYS[3], 0, '0')
  else
    out[1] = wait
  end
end
return out
