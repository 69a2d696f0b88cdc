--[[ enqueue: store one or more new tasks and make them ready (or scheduled), all or nothing.
  KEYS[1] -> queue zset of the normal level (score = time the task may run); the other levels are
             derived from it (level_queue: `queue:high`, `queue:low`, same hash tag)
  KEYS[2] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> idempotency key lifetime (ms)
  ARGV[3] -> values per task: 4 (plain tasks: id, type, payload, max_retry) or 12 (those four, then
             delay_ms, run_at (epoch ms), priority ('' = normal), timeout_ms, backoff (task-options.ts
             encoding), idempotency key, request hash, schedule (`<schedule id>|<tick ms>`, stored as the
             field `sched`); '' when unset). One size for the whole call, so a
             call of plain tasks takes the plain path. delay_ms wins over run_at; a task whose time is
             not after now is due at once and gets no run_at.
  ARGV[4] -> '1': a new task is written as older versions wrote it, for their readers
             (STORE_TASK_DEFAULTS=true, during a rolling update): it stores its default fields,
             retries = 0, attempts = 0 and updated_at = created_at (a version before a06bb81 cannot
             read a task without them), and every new task gets an s:pending entry (versions before
             the one that dropped s:pending entries of new tasks (2026-12-01, evening) list and count
             pending tasks from s:pending alone). '': neither (every reader
             since a06bb81 takes a missing field as its default, and since that one lists a pending
             task whose queue score is its creation time from its queue zset, PENDING_INDEX in
             lib/common.lua): 64 + 129 bytes and about 0.6 + 1.2–2.2 µs of this script's time less per
             task (docs/performance.md)
  ARGV[5..] -> the tasks
  Time: Redis' clock (TIME); every task of the call gets the same created_at.
  Idempotency: an element with a key that is remembered (idem:<key>, '<id>|<hash>') is not created: with
  the same request hash it is a replay of that task, with another hash a conflict; a replay whose task
  no longer exists is 'gone'. A key given twice in one call: the second element is a replay of the
  first (same hash) or a conflict. New keys are remembered for the lifetime, set when their task is.
  Returns:
    - without any idempotency key in the call: created_at (ms), or ERR_DUPLICATE_ID (nothing stored) if
      any id exists already or appears twice;
    - with one: ERR_DUPLICATE_ID, or { created_at | ERR_IDEMPOTENCY, one entry per element }, an entry
      being 0 (created), k > 0 (the same task as element k of this call), { id, { field, value, ... } }
      (a replay of a stored task), 'conflict' or 'gone'. ERR_IDEMPOTENCY: some entry is a conflict or
      gone, and nothing was stored.
]]
-- Calls of plain tasks (the common case, and every lone caller's) run before the libraries: their top
-- level (some 35 local functions and tables, built anew on every call) costs Redis about 30k
-- instructions per call, a fifth of a one-task call. The few helpers these paths need, the same as
-- lib/common.lua's (keep them so; key rules mirror src/queue/queue-keys.ts):
local function task_key(base, id) return base .. 't:' .. id end
local function status_key(base, status) return base .. 's:' .. status end
local ERR_DUPLICATE_ID = -3
local function redis_now()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

local base, key_ttl, size, defaults = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4] == '1'
local FIRST = 5 -- the first task's first value
-- What a new task stores besides its own values: the default fields under STORE_TASK_DEFAULTS=true
-- (ARGV[4]), nothing otherwise. One table per call, unpacked at the end of every task's HSET.
local NONE = {}
local function default_fields(now)
  if defaults then return { 'retries', '0', 'attempts', '0', 'updated_at', now } end
  return NONE
end

if size == 4 and #ARGV == 8 then
  -- One plain task: the writes of the loop below, without its tables (garbage Lua collects per call).
  local id, task_type = ARGV[5], ARGV[6]
  local key = task_key(base, id)
  if redis.call('EXISTS', key) == 1 then return ERR_DUPLICATE_ID end
  local now = redis_now()
  redis.call('HSET', key, 'type', task_type, 'payload', ARGV[7], 'status', 'pending', 'max_retry', ARGV[8], 'created_at', now,
    unpack(default_fields(now)))
  redis.call('ZADD', KEYS[1], now, id)
  if defaults then redis.call('ZADD', status_key(base, 'pending'), now, id) end
  redis.call('ZADD', KEYS[2], '0', '0')
  return tonumber(now)
end

local seen = {}

if size == 4 then
  -- One EXISTS for every id of the call (chunks of at most 1000 keys) instead of one per task: a
  -- redis.call costs about as much as the work it carries. The keys are kept for the HSETs.
  local keys, n = {}, 0
  for i = FIRST, #ARGV, 4 do
    local id = ARGV[i]
    if seen[id] then return ERR_DUPLICATE_ID end
    seen[id] = true
    n = n + 1
    keys[n] = task_key(base, id)
  end
  for i = 1, n, 1000 do
    if redis.call('EXISTS', unpack(keys, i, math.min(i + 999, n))) > 0 then return ERR_DUPLICATE_ID end
  end
  local now = redis_now()
  -- Every task of the call is due now and created now: the queue gets one ZADD for all of them (and
  -- s:pending under STORE_TASK_DEFAULTS=true), in chunks of at most 1000 arguments. Constant values
  -- are strings: a Lua number passed to redis.call is formatted anew on every call.
  local entries = {}
  local k = 0
  local kept = default_fields(now)
  for i = FIRST, #ARGV, 4 do
    k = k + 1
    redis.call('HSET', keys[k], 'type', ARGV[i + 1], 'payload', ARGV[i + 2], 'status', 'pending', 'max_retry', ARGV[i + 3],
      'created_at', now, unpack(kept))
    entries[#entries + 1] = now
    entries[#entries + 1] = ARGV[i]
  end
  local function zadd_all(key, args)
    for i = 1, #args, 1000 do redis.call('ZADD', key, unpack(args, i, math.min(i + 999, #args))) end
  end
  zadd_all(KEYS[1], entries)
  if defaults then zadd_all(status_key(base, 'pending'), entries) end
  redis.call('ZADD', KEYS[2], '0', '0')
  return tonumber(now)
end

--- @include "common"
--- @include "task-options"

-- Tasks with options: first every check (ids, idempotency keys), then the writes.
local keyed = false
local failed = false
local entries = {}
local keys_seen = {}
local element = 0
for i = FIRST, #ARGV, 12 do
  element = element + 1
  local id, ikey = ARGV[i], ARGV[i + 9]
  if seen[id] or redis.call('EXISTS', task_key(base, id)) == 1 then return ERR_DUPLICATE_ID end
  seen[id] = true
  entries[element] = 0
  if ikey ~= '' then
    keyed = true
    local hash = ARGV[i + 10]
    local earlier = keys_seen[ikey]
    if earlier then
      if earlier[2] == hash then entries[element] = earlier[1] else entries[element] = 'conflict' end
    else
      local stored = redis.call('GET', idempotency_key(base, ikey))
      if stored then
        local old_id, old_hash = string.match(stored, '^(.-)|(.*)$')
        if old_hash ~= hash then
          entries[element] = 'conflict'
        else
          local h = redis.call('HGETALL', task_key(base, old_id))
          if #h == 0 then entries[element] = 'gone' else entries[element] = { old_id, h } end
        end
      else
        keys_seen[ikey] = { element, hash }
      end
    end
    if entries[element] == 'conflict' or entries[element] == 'gone' then failed = true end
  end
end
if failed then
  local out = { ERR_IDEMPOTENCY }
  for k = 1, element do out[k + 1] = entries[k] end
  return out
end

local now = redis_now()
local kept = default_fields(now)
local created = false
element = 0
for i = FIRST, #ARGV, 12 do
  element = element + 1
  if entries[element] == 0 then
    local id, task_type = ARGV[i], ARGV[i + 1]
    local delay, at, priority, timeout, backoff, ikey = ARGV[i + 4], ARGV[i + 5], ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9]
    local fields = { 'type', task_type, 'payload', ARGV[i + 2], 'status', 'pending', 'max_retry', ARGV[i + 3], 'created_at', now }
    for _, v in ipairs(kept) do fields[#fields + 1] = v end
    local score = now
    local run_at = false
    if delay ~= '' then run_at = tonumber(now) + tonumber(delay) elseif at ~= '' then run_at = tonumber(at) end
    local scheduled = run_at and run_at > tonumber(now)
    if scheduled then
      score = ms_string(run_at)
      fields[#fields + 1] = 'run_at'
      fields[#fields + 1] = score
    end
    if timeout ~= '' or backoff ~= '' or scheduled then
      fields[#fields + 1] = 'opts'
      fields[#fields + 1] = timeout .. '|' .. backoff
    end
    if ARGV[i + 11] ~= '' then
      fields[#fields + 1] = 'sched'
      fields[#fields + 1] = ARGV[i + 11]
    end
    if priority == '' then
      priority = false
    else
      fields[#fields + 1] = 'priority'
      fields[#fields + 1] = priority
      redis.call('ZADD', priority_key(base, priority), now, id)
    end
    redis.call('HSET', task_key(base, id), unpack(fields))
    redis.call('ZADD', level_queue(KEYS[1], priority), score, id)
    -- s:pending lists the pending tasks whose queue score is not their creation time (PENDING_INDEX
    -- in lib/common.lua); the others are listed from their queue zset.
    if scheduled or defaults then index_add(base, id, 'pending', now) end
    if ikey ~= '' then
      redis.call('SET', idempotency_key(base, ikey), id .. '|' .. ARGV[i + 10], 'PX', key_ttl)
    end
    created = true
  end
end
if created then redis.call('ZADD', KEYS[2], 0, '0') end
if not keyed then return tonumber(now) end
local out = { tonumber(now) }
for k = 1, element do out[k + 1] = entries[k] end
return out
