-- Shared by every script through `--- @include "common"` (inlined by script-loader.ts at load time).
-- Key rules mirror src/queue/queue-keys.ts: every name starts with the queue base `<prefix>:{<queue>}:`,
-- so keys derived here share the hash tag (and the Cluster slot) of the keys passed in KEYS.

local function task_key(base, id) return base .. 't:' .. id end
local function status_key(base, status) return base .. 's:' .. status end
local function status_type_key(base, status, task_type) return base .. 'st:' .. status .. ':' .. task_type end

-- Result codes; mirrored by QueueErrorCode in src/queue/queue-errors.ts.
local ERR_NOT_FOUND = -1
local ERR_LEASE_LOST = -2
local ERR_DUPLICATE_ID = -3

-- Redis' own clock, in epoch ms: the one clock of the whole fleet, so a process whose clock is off moves
-- no deadline and no timestamp. Safe in a script that writes: scripts replicate their effects (the
-- default since Redis 5, the only mode in 7), so a replica or the AOF never re-reads the clock.
-- Returned as a string of digits (Lua turns it into a number for arithmetic by itself): a number
-- passed to redis.call is formatted anew on every call, which costs more than the call around it.
local function redis_now()
  local t = redis.call('TIME')
  return t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000))
end

-- A time computed in Lua (a number), as the digits redis.call gets: formatted once, used many times.
local function ms_string(ms)
  return string.format('%d', ms)
end

-- ---- Compact completed tasks (src/queue/compact-task.ts reads them the same way) ----
-- With COMPACT_COMPLETED_TASKS=true (settle.lua ARGV[4]), a completed task waits for retention in
-- about 60% of the bytes of its working hash: the fields every task has are packed into one field
-- `z`, the payload is `p`, the result `o`, and every other field keeps its name (opts, priority,
-- sched, stalls, the error of an earlier attempt, ...; and a large payload, which a worker asks to
-- leave where it is: keep_payload below). A hash with `z` is a completed task: it has no
-- `status` field. Field names are most of a small hash's bytes, and every field costs a listpack
-- entry's own overhead besides. Every reader below reads both layouts (task_hmget).
--   z = created_at|updated_at|started_at|attempts|retries|max_retry|started|<bytes of worker>|<worker><type>
-- created_at in ms, updated_at in ms after it, started_at in ms before updated_at (before created_at
-- when there is no updated_at): small numbers take fewer bytes. started: '' when it is attempts (the
-- attempt that completed the task started: the usual case), '-' when the task has none. '' for any
-- other field the task does not have. The type is last, so it may hold any byte.
-- Pending, processing and failed tasks keep the full names: every transition reads them, and a
-- failed task can be retried. Written once, in place (one HDEL and one HSET), by finish; nothing
-- writes a completed task again.
-- The packed fields every task has, then those of a started attempt, then the last ended attempt's:
-- HDEL names only those the task has (each name costs a search of the hash).
-- The payload last: COMPACT_ALWAYS_BUT_PAYLOAD is the rest (a large payload stays under its own name,
-- not read, not copied).
local COMPACT_ALWAYS = { 'status', 'type', 'created_at', 'updated_at', 'attempts', 'retries', 'max_retry', 'payload' }
local COMPACT_ALWAYS_BUT_PAYLOAD = { unpack(COMPACT_ALWAYS, 1, #COMPACT_ALWAYS - 1) }
local COMPACT_STARTED = { 'started', 'started_at', 'worker' }
local COMPACT_HISTORY = { 'h_attempt', 'h_outcome', 'h_ended_at', 'h_error' }

-- The packed field of a task with these fields (strings; nil or false when the task has none).
-- Positional, not a table: a table per completed task is garbage Lua has to collect.
local function compact_z(created_at, updated_at, started_at, attempts, retries, max_retry, started, worker, task_type)
  local created = tonumber(created_at) or 0
  local updated = tonumber(updated_at)
  if not started then started = '-' elseif started == attempts then started = '' end
  return (created_at or '') .. '|' .. (updated and ms_string(updated - created) or '') .. '|'
    .. (started_at and ms_string((updated or created) - tonumber(started_at)) or '') .. '|'
    .. (attempts or '') .. '|' .. (retries or '') .. '|' .. (max_retry or '') .. '|' .. started .. '|'
    .. (worker and #worker or '') .. '|' .. (worker or '') .. (task_type or '')
end

-- A compact completed task's hash (HGETALL reply) as field -> value of the full form.
local function compact_read(pairs)
  local h = {}
  for i = 1, #pairs, 2 do h[pairs[i]] = pairs[i + 1] end
  local z = h.z
  h.z, h.status = nil, 'completed'
  -- A large payload was left under its own name (no `p`).
  if h.p ~= nil then h.payload, h.p = h.p, nil end
  h.result, h.o = h.o, nil
  local c, u, s, a, r, m, k, w, at = string.match(z, '^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|()')
  if not at then return h end
  local created = tonumber(c) or 0
  local function given(v) if v ~= '' then return v end end
  h.created_at = given(c)
  local updated = u ~= '' and created + tonumber(u) or nil
  h.updated_at = updated and ms_string(updated) or nil
  h.started_at = s ~= '' and ms_string((updated or created) - tonumber(s)) or nil
  h.attempts, h.retries, h.max_retry = given(a), given(r), given(m)
  if k == '' then h.started = h.attempts elseif k ~= '-' then h.started = k end
  local worker_bytes = tonumber(w) or 0
  if w ~= '' then h.worker = string.sub(z, at, at + worker_bytes - 1) end
  h.type = string.sub(z, at + worker_bytes)
  return h
end

-- HMGET of a task's fields that reads a compact completed task as if it had them (a missing field is
-- false, as HMGET's nil is in Lua). One extra field to look up for the others, one HGETALL for these.
local function task_hmget(key, ...)
  local f = redis.call('HMGET', key, 'z', ...)
  if not f[1] then
    table.remove(f, 1)
    return f
  end
  local h = compact_read(redis.call('HGETALL', key))
  local out = {}
  for i = 1, select('#', ...) do out[i] = h[(select(i, ...))] or false end
  return out
end

-- Listing indexes: s:<status>, score = creation time for pending, finish time for completed and
-- failed (written by finish, not here).
-- PENDING_INDEX: s:pending holds only the pending tasks whose queue score (when they may run) is not
-- their creation time: delayed and scheduled tasks, tasks waiting for a retry, failed tasks sent back.
-- A task due when it was created (most tasks), or requeued at its creation time, is listed from its
-- queue zset, whose score is then its creation time (list.lua checks which of the two lists a task:
-- the queue zset when the scores agree, s:pending otherwise). That is an entry, a ZADD at enqueue and
-- a ZREM at fetch less per task. Fetch removes a leased task from s:pending when it may be there
-- (its queue score differs, or it stores `attempts`: written by an older version or under
-- STORE_TASK_DEFAULTS=true, which still indexes every new task for older readers).
-- Processing has none: its listing is derived from the `active` zset (list.lua), which holds every leased task anyway (at most workers x (concurrency + prefetch) of
-- them), so leasing a task moves it in one index, not two. No status has an index per type (list.lua
-- filters the status index by type): that saves an index entry per task and a write at enqueue and
-- at fetch. Finished tasks have no other entry: their status index, scored by finish time, is at
-- once their listing (latest finished first) and retention's order (purge-expired.lua), so a finished
-- task costs one index entry.
local function index_add(base, id, status, created)
  if status == 'processing' then return end
  redis.call('ZADD', status_key(base, status), created, id)
end

-- Also removes the st:<status>:<type> entry that a task has from before those indexes were dropped
-- (2026-11-30 for completed and failed, 2026-12-01 for pending), or from a process of an older
-- version: they leave with their tasks (retention, delete, retry; fetch for pending), a ZREM of a
-- missing key for the others.
local function index_remove(base, id, task_type, status)
  if status == 'processing' then return end
  redis.call('ZREM', status_key(base, status), id)
  redis.call('ZREM', status_type_key(base, status, task_type), id)
end

local function index_move(base, id, task_type, from, to, created)
  index_remove(base, id, task_type, from)
  index_add(base, id, to, created)
end

-- Fencing. The attempt number handed out by fetch is the lease token: it only grows, so a worker whose
-- lease was recovered (status no longer processing) or re-leased (attempts moved on) cannot write.
-- Returns 0, the task's type, creation time, `started` (the token of the attempt whose handler
-- started, if any) and `h_attempt` (the last ended attempt held in the hash, see history_archive)
-- when the lease is held, else an error code; with `whole` (a completion), also the fields it packs
-- (the HMGET reply of LEASE_FIELDS_WHOLE, false for a field the task lacks) for finish.
local LEASE_FIELDS = { 'status', 'attempts', 'type', 'created_at', 'started', 'h_attempt' }
-- With `whole`, also the fields a completion packs (compact_z); with `keep_payload` too, all but the
-- payload, which then stays where it is (finish; lease.keep_payload is set).
local LEASE_FIELDS_WHOLE = { 'status', 'attempts', 'type', 'created_at', 'started', 'h_attempt', 'retries',
  'max_retry', 'started_at', 'worker', 'payload' }
local LEASE_FIELDS_WHOLE_BUT_PAYLOAD = { unpack(LEASE_FIELDS_WHOLE, 1, #LEASE_FIELDS_WHOLE - 1) }
local function check_lease(key, token, whole, keep_payload)
  local names = LEASE_FIELDS
  if whole then names = keep_payload and LEASE_FIELDS_WHOLE_BUT_PAYLOAD or LEASE_FIELDS_WHOLE end
  local f = redis.call('HMGET', key, unpack(names))
  if not f[1] then
    -- A compact completed task has no status field (compact_z): its lease is over.
    if redis.call('HEXISTS', key, 'z') == 1 then return ERR_LEASE_LOST end
    return ERR_NOT_FOUND
  end
  if f[1] ~= 'processing' or f[2] ~= token then return ERR_LEASE_LOST end
  if whole and keep_payload then f.keep_payload = true end
  return 0, f[3], f[4], f[5], f[6], whole and f or nil
end

-- The transitions below take `fields`: more field, value pairs written by the same HSET (the ended
-- attempt, see history_fields), or nil.
local NO_FIELDS = {}

-- processing -> pending, waiting in the queue zset until run_at; spends one retry. The caller sets
-- the wake-up marker once, so an idle worker recomputes how long to block.
local function schedule_retry(base, key, id, task_type, created, err, now, run_at, queue_key, active_key, fields)
  redis.call('HINCRBY', key, 'retries', 1)
  redis.call('HSET', key, 'status', 'pending', 'error', err, 'run_at', run_at, 'updated_at', now, unpack(fields or NO_FIELDS))
  redis.call('ZREM', active_key, id)
  redis.call('ZADD', queue_key, run_at, id)
  index_move(base, id, task_type, 'processing', 'pending', created)
end

-- ---- Outcome counters (GET /stats: processed and failed per minute) ----
-- One hash per minute of Redis time, `stat:<minute>` (minute = floor(ms / 60000)), fields `completed`
-- and `failed`: tasks that reached that final state in that minute. finish counts; the script writes
-- the counts once, before it returns (flush_counts): one HINCRBY per outcome per call, not per task.
-- The hash expires STAT_TTL_S after its first write (an hour of history plus a margin).
local STAT_TTL_S = 7200
local outcome_counts = { completed = 0, failed = 0 }

local function stat_key(base, minute) return base .. 'stat:' .. minute end

-- Call once, before the script returns, with the time the outcomes were written.
local function flush_counts(base, now)
  local key
  for _, outcome in ipairs({ 'completed', 'failed' }) do
    local n = outcome_counts[outcome]
    if n > 0 then
      key = key or stat_key(base, math.floor(tonumber(now) / 60000))
      -- The increment that creates a field (it returns n) may create the hash: it sets the TTL.
      if redis.call('HINCRBY', key, outcome, n) == n then redis.call('EXPIRE', key, STAT_TTL_S) end
    end
  end
end

-- finish() writes the task's hash at once; its sorted-set writes wait in `finished` and go out once
-- per script call (flush_finished), one command per key for all the tasks the call finished (a
-- redis.call costs about as much as the write it carries).
local finished = { keys = false, active = {}, completed = {}, failed = {} }

-- processing -> completed (text = result) or failed (text = error): terminal, kept until retention.
-- The finish time is updated_at: nothing writes a finished task's updated_at again but revive_failed,
-- which makes it pending, so no completed_at field is stored (tasks written before kept one; readers
-- take completed_at when present, else updated_at of a completed or failed task). It is also the
-- task's score in s:<status> (finish_time reads it back).
local function finish(base, key, id, status, text, now, active_key, fields, lease)
  outcome_counts[status] = outcome_counts[status] + 1
  if lease then
    -- Packed in place (compact_z). The h_* fields go: a completed task's last attempt is the task
    -- itself (history, below).
    -- lease: check_lease's fields (LEASE_FIELDS_WHOLE): 2 attempts, 3 type, 4 created_at, 5 started,
    -- 6 h_attempt, 7 retries, 8 max_retry, 9 started_at, 10 worker, 11 payload (absent with
    -- keep_payload: the payload stays `payload`).
    local l = lease
    local started, started_at, worker = l[5], l[9], l[10]
    local always = l.keep_payload and COMPACT_ALWAYS_BUT_PAYLOAD or COMPACT_ALWAYS
    local names = always
    if started or started_at or worker or l[6] then
      names = { unpack(always) }
      if started or started_at or worker then
        for _, name in ipairs(COMPACT_STARTED) do names[#names + 1] = name end
      end
      if l[6] then
        for _, name in ipairs(COMPACT_HISTORY) do names[#names + 1] = name end
      end
    end
    -- The start of a fused run, written with the completion.
    for i = 1, #(fields or NO_FIELDS), 2 do
      local name, value = fields[i], fields[i + 1]
      if name == 'started_at' then started_at = value elseif name == 'started' then started = value elseif name == 'worker' then worker = value end
    end
    -- The packed fields first, then the others go: the hash must never be empty in between. An empty
    -- hash is deleted, and in Redis Cluster, while its slot migrates, a script's write to a key that
    -- is not there is refused mid-script (ASK): the HSET after it failed and the task was gone
    -- (test/redis-cluster, "while the queue slot moves").
    local z = compact_z(l[4], now, started_at, l[2], l[7], l[8], started, worker, l[3])
    if l.keep_payload then
      redis.call('HSET', key, 'z', z, 'o', text)
    else
      redis.call('HSET', key, 'z', z, 'p', l[11] or '', 'o', text)
    end
    redis.call('HDEL', key, unpack(names))
  else
    redis.call('HSET', key, 'status', status, status == 'completed' and 'result' or 'error', text, 'updated_at', now,
      unpack(fields or NO_FIELDS))
  end
  -- Out of `active`, into s:<status> scored by finish time: see flush_finished.
  local f = finished
  f.keys = f.keys or { base, active_key }
  f.active[#f.active + 1] = id
  local index = f[status]
  index[#index + 1] = now
  index[#index + 1] = id
end

-- Sends the sorted-set writes finish() collected: one command per key for every task of the call,
-- in chunks of at most 1000 arguments. Call it before the script returns, and before it reads
-- `active`, s:completed or s:failed again.
local function flush_finished()
  local f = finished
  if not f.keys then return end
  local function write_all(command, key, args)
    for i = 1, #args, 1000 do redis.call(command, key, unpack(args, i, math.min(i + 999, #args))) end
  end
  write_all('ZREM', f.keys[2], f.active)
  write_all('ZADD', status_key(f.keys[1], 'completed'), f.completed)
  write_all('ZADD', status_key(f.keys[1], 'failed'), f.failed)
  finished = { keys = false, active = {}, completed = {}, failed = {} }
end

-- processing -> pending at once, without spending a retry (graceful shutdown, prefetched tasks handed
-- back). Queued at its creation time so it goes ahead of tasks that arrived after it.
local function requeue(base, key, id, task_type, created, now, queue_key, active_key, fields)
  redis.call('HSET', key, 'status', 'pending', 'updated_at', now, unpack(fields or NO_FIELDS))
  redis.call('ZREM', active_key, id)
  redis.call('ZADD', queue_key, created, id)
  -- Queued at its creation time: listed from the queue zset, no s:pending entry (PENDING_INDEX).
end

-- ---- Task events and attempt history (GET /tasks/{id}?wait, /events, `history`) ----

-- Every state change of a task is an event `id|event|attempt` (event: pending | processing |
-- retrying | completed | failed | deleted). A script collects its events and publishes them once, as
-- lines of one message, on the queue's events channel (QueueKeys.eventsChannel): one PUBLISH per
-- script call, not per task. API processes re-read the task to build what they send.
local events = {}

local function publish_event(id, event, attempt)
  events[#events + 1] = id .. '|' .. event .. '|' .. (attempt or '')
end

-- Call once, before the script returns.
local function flush_events(base)
  if #events > 0 then redis.call('PUBLISH', base .. 'events', table.concat(events, '\n')) end
end

-- Attempt history. The last ended attempt lives in the task hash: h_attempt, h_outcome, h_ended_at,
-- h_error ('=' for "the task's error field", written by the same transition; '' for none; else the
-- text), written by the HSET of the transition that ends it; its start time and worker are the
-- task's started_at and worker when `started` = h_attempt. So a task that runs once costs four
-- fields and no extra write. Before a later attempt overwrites any of that (its start, if the last
-- ended attempt had started; its end), the last ended attempt moves to the list `t:<id>:h` (oldest
-- first, at most HISTORY_MAX - 1 entries, removed with the task) as
-- `attempt|outcome|started_at|ended_at|worker|error`, error cut at HISTORY_ERROR_MAX bytes;
-- started_at and worker are empty when the handler never started. h_attempt '' = none in the hash.
-- outcome: completed | failed | retry | timeout | lost | requeued.
-- A completed task stores no h_* field: its last ended attempt is the one that completed it, read
-- from the task itself (attempt = attempts, ended at updated_at, started_at and worker when started
-- = attempts, no error); the completion drops the h_* fields of an earlier attempt, archived by then
-- (history_clear, or finish when it packs the task).
-- (Tasks completed before this layout kept h_* = that attempt; readers take h_* when h_attempt is set.)
local HISTORY_MAX = 10
local HISTORY_ERROR_MAX = 1024

local function history_key(base, id) return base .. 't:' .. id .. ':h' end

-- The first n bytes of s, cut back to a UTF-8 character boundary (never half a character).
local function utf8_prefix(s, n)
  if #s <= n then return s end
  local cut = n
  while cut > 0 do
    local b = string.byte(s, cut + 1)
    if b < 128 or b >= 192 then break end
    cut = cut - 1
  end
  return string.sub(s, 1, cut)
end

-- Whether the hash holds a last ended attempt (its h_attempt, as read).
local function history_held(previous)
  return previous and previous ~= ''
end

-- Moves the last ended attempt held in the hash (`previous` = its h_attempt) to the list. Call before
-- the transition writes (rare: only tasks with more than one attempt get here).
local function history_archive(base, key, id, previous)
  if not history_held(previous) then return end
  local p = redis.call('HMGET', key, 'h_outcome', 'h_ended_at', 'h_error', 'error', 'started', 'started_at', 'worker')
  local err = p[3] == '=' and (p[4] or '') or (p[3] or '')
  local ran = p[5] == previous
  local list = history_key(base, id)
  local n = redis.call('RPUSH', list, previous .. '|' .. (p[1] or '') .. '|' .. (ran and p[6] or '') .. '|'
    .. (p[2] or '') .. '|' .. (ran and p[7] or '') .. '|' .. utf8_prefix(err, HISTORY_ERROR_MAX))
  if n >= HISTORY_MAX then redis.call('LTRIM', list, 1 - HISTORY_MAX, -1) end
end

-- The hash fields of an attempt that ends now, for the transition's HSET. err: '=' when the
-- transition writes this attempt's error to the error field, '' for none, else the text.
local function history_fields(attempt, outcome, now, err)
  return { 'h_attempt', attempt, 'h_outcome', outcome, 'h_ended_at', now, 'h_error', err }
end

-- Removes the h_* fields (call after history_archive) when the hash has them (`previous` = its
-- h_attempt as read, false when absent): a completing transition stores none (a compact one drops them).
local function history_clear(key, previous)
  if previous then redis.call('HDEL', key, 'h_attempt', 'h_outcome', 'h_ended_at', 'h_error') end
end
