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
  Returns: { next_run_in_ms, now, k, fields, type_1 .. type_k, payload_1 .. payload_n, odd ids }: the
    n leased tasks' fixed fields in one string (a reply element costs the client a buffer and a string
    each), `\t` after each field, 8 per task: id, token, type number (1..k: the task's type is
    type_<number>; each type once per call), retries, max_retry, opts, score, created_at. Every field
    is a string Lua has already: formatting a number into the string costs more than the rest
    together. Types and payloads may hold tabs, so they are elements of their own; so may an id (ids
    are the caller's): such an id is an element after the payloads instead (in order), its field is
    empty and its type number negative.
    (now: Redis' time of the call, ms; opts: the task's `opts` field, '<timeout_ms>|<backoff>', or ''
    when it has none; score: when the task became due, so now - score is how long it waited; created_at
    may be '' for a task without one)
    next_run_in_ms = ms until the earliest task still queued at any level after this call may run (0
    when one is due now), or -1 when none is queued or the queue is paused (resume sets the marker).
    A paused queue answers { -1, '0', 0, '' } at once (no task, now not read).
]]
--- @include "common"
--- @include "task-options"

if redis.call('EXISTS', KEYS[4]) == 1 then return { -1, '0', 0, '' } end
local base = ARGV[1]
local now = redis_now()
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
local fields = {} -- 8 per task, joined into one string at the end
local payloads = {}
local types = {} -- type -> its number in the reply
local type_names = {}
local odd_ids = {} -- ids holding a tab
local bytes = 0
local taken = 0
local leases = {} -- deadline, id pairs for `active`
local leased = {} -- ids that may be in s:pending (they leave it)
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
      local token = string.format('%d', (tonumber(f[8]) or 0) + 1)
      redis.call('HSET', key, 'status', 'processing', 'updated_at', now, 'attempts', token)
      -- Only a task that waited for a retry or was scheduled (which gives it opts) has a run_at. A
      -- task may leave out retries (and attempts, updated_at) while they hold their defaults.
      if (f[3] and f[3] ~= '0') or f[7] then redis.call('HDEL', key, 'run_at') end
      -- Into `active`; out of s:pending when it may be there (PENDING_INDEX in lib/common.lua: a
      -- task queued at another time than its creation, or one that stores `attempts`, as every task
      -- once leased and every task written by an older version does). A new task due at its creation
      -- is not: no ZREM for it.
      leases[#leases + 1] = deadline
      leases[#leases + 1] = id
      if f[8] or due[j + 1] ~= f[5] then leased[#leased + 1] = id end
      bytes = bytes + #f[2]
      local type_number = types[f[1]]
      if not type_number then
        type_names[#type_names + 1] = f[1]
        type_number = string.format('%d', #type_names)
        types[f[1]] = type_number
      end
      local n = #fields
      if string.find(id, '\t', 1, true) then
        odd_ids[#odd_ids + 1] = id
        fields[n + 1] = ''
        fields[n + 3] = '-' .. type_number
      else
        fields[n + 1] = id
        fields[n + 3] = type_number
      end
      fields[n + 2] = token
      fields[n + 4] = f[3] or '0'
      fields[n + 5] = f[4] or '0'
      fields[n + 6] = f[7] or ''
      -- For the metrics, by Redis' clock (the client subtracts them from now): how long it was due, how old it is.
      fields[n + 7] = due[j + 1]
      fields[n + 8] = f[5] or ''
      payloads[#payloads + 1] = f[2]
    end
  end
  -- Every entry taken leaves its level, a stale one too.
  batched('ZREM', level, taken_here)
end
batched('ZADD', KEYS[2], leases)
batched('ZREM', status_key(base, 'pending'), leased)
-- Tasks queued by a process of a version before 2026-12-01 are also in st:pending:<type>, an index
-- per type that nothing reads now: they leave it here, so it empties and goes. Once it has gone, this
-- is one EXISTS per type per call (a ZREM of every leased task was the cost this index had here).
-- The types are those of the reply; the ids of other types are no members, their ZREM a no-op.
local every_id = false
for _, task_type in ipairs(type_names) do
  local legacy = status_type_key(base, 'pending', task_type)
  if redis.call('EXISTS', legacy) == 1 then
    if not every_id then
      every_id = {}
      for i = 2, #leases, 2 do every_id[#every_id + 1] = leases[i] end
    end
    batched('ZREM', legacy, every_id)
  end
end
-- A tab after every field: the last one too (the empty string after the last separator).
fields[#fields + 1] = ''
local out = { -1, now, #type_names, #fields > 1 and table.concat(fields, '\t') or '' }
for i = 1, #type_names do out[#out + 1] = type_names[i] end
for i = 1, #payloads do out[#out + 1] = payloads[i] end
for i = 1, #odd_ids do out[#out + 1] = odd_ids[i] end
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
