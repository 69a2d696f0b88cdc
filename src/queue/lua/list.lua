--[[ list: one page of tasks from one index or the merge of several, optionally filtered.
  The indexes come in two parts, listed one after the other: the open part, the first ARGV[8] KEYS (pending
  and processing tasks, score = creation time), then the finished part, the other KEYS (s:completed
  and s:failed, score = finish time). Within a part, tasks go newest score first. So a task that
  finishes while a reader pages through the open part moves to the finished part, which the reader
  reaches later (it may be listed twice, it is never skipped). A listing of one part only (one
  status, or a priority index: every key in the open part) is one ordered index as before.
  KEYS[1..n] -> listing index zsets; several in one part are merged (all statuses, or one type across
                statuses). Cost: O(n * (log N + limit)), whatever the number of tasks.
                The queue's `active` zset (<base>active) stands for the processing tasks, which have no
                index of their own: its members that are processing (of type ARGV[7] when given) are
                read and sorted by creation time, once per call: O(A log A) for A leased tasks, which
                are bounded by the workers (workers x (concurrency + prefetch)), not by the tasks stored.
                No status has an index per type: with ARGV[7] given, entries of a status index
                (<base>s:<status>) count only when their task has that type (a filtered scan, below).
                Pending tasks are the queue zsets (<base>queue, queue:high, queue:low, read up to now)
                and <base>s:pending together: an entry of either counts only when its task is pending
                and that index lists it (PENDING_INDEX in lib/common.lua), a filtered scan too.
  ARGV[1] -> key base of the queue
  ARGV[2] -> limit
  ARGV[3] -> cursor score ('' for the first page)
  ARGV[4] -> cursor id
  ARGV[5] -> byte budget: no further task is added once the task hashes read reach it (the first
             always is); 0 = none. Bounds the reply (and the time Redis spends on it) when tasks are large
  ARGV[6] -> scan budget of a filtered page: most index entries it examines (at least limit)
  ARGV[7] -> type of the tasks read from `active` and from status indexes ('' = every type)
  ARGV[8] -> number of KEYS in the open part (the rest are the finished part)
  ARGV[9] -> part of the cursor: 0 = open, 1 = finished (the first page starts in the open part)
  ARGV[10..] -> filter, pairs: task field, value ('' matches a task without the field); none = every
             task of the indexes. A filtered page (one with a filter, or with a type and a status
             index) reads the indexes in windows (limit + 1, then as many
             as the matches still missing need at the rate seen so far) until it has `limit` matching
             tasks, the indexes end, or it examined the scan budget: it may hold fewer than limit tasks
             (even none) and still have more.
  Order is (part, score desc, id desc); the cursor is the last (part, score, id) returned, so a page
  starts strictly after it even when many tasks share one millisecond.
  Returns: { has_more (0|1), then per task: id, score, part (0|1), { field, value, ... } }
    has_more is 1 when the page was cut short by the limit, the byte budget or the scan budget. A
    filtered page that ends on entries that did not match ends with the last of them and an empty
    field list, so that the cursor moves past them (a reader skips tasks without fields).
]]
--- @include "common"
--- @include "task-options"

local base, limit = ARGV[1], tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[5]) or 0
local filter_fields, filter_values = {}, {}
for k = 10, #ARGV, 2 do
  filter_fields[#filter_fields + 1] = ARGV[k]
  filter_values[#filter_values + 1] = ARGV[k + 1]
end
local active_key, list_type = base .. 'active', ARGV[7]
-- Ids of one score go by id descending in byte order, as a zset orders the members of one score
-- (memcmp). Not with Lua's `<`: Lua compares strings with strcoll, in the locale redis-server started
-- in (LC_COLLATE from its environment), and under en_US.UTF-8 that puts 'a' before 'B' and weighs
-- '-' and '_' last, so a cursor inside a tie skipped or repeated tasks (test/queue/list-locale).
local byte = string.byte
-- Whether id a sorts after id b in byte order (so comes first in the listing).
local function id_after(a, b)
  if a == b then return false end
  for i = 1, math.min(#a, #b) do
    local x, y = byte(a, i), byte(b, i)
    if x ~= y then return x > y end
  end
  return #a > #b
end
-- The first six bytes of an id as one number in byte order (each byte + 1, an absent byte 0; 257^6 is
-- below 2^53): the sorts compare these first, and the ids byte by byte only when they are equal.
local function id_rank(id)
  local b1, b2, b3, b4, b5, b6 = byte(id, 1, 6)
  return (((((((b1 or -1) + 1) * 257 + ((b2 or -1) + 1)) * 257 + ((b3 or -1) + 1)) * 257 + ((b4 or -1) + 1)) * 257
    + ((b5 or -1) + 1)) * 257) + ((b6 or -1) + 1)
end
-- Listing order of two entries { score, id, score text, type checked, id_rank(id) } (the rank is
-- computed only for entries that are sorted): newest score first, then id descending in byte order.
local function listing_order(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  if a[5] ~= b[5] then return a[5] > b[5] end
  return id_after(a[2], b[2])
end
-- Pending tasks are listed from two kinds of index (PENDING_INDEX in lib/common.lua): a queue zset
-- (`queue`, `queue:high`, `queue:low`) lists the ones whose queue score is their creation time, and
-- s:pending the others. An entry of either counts only when its task is pending and belongs there
-- (checked in `matches`), so a task in both (written by an older version) is listed once.
local QUEUED, WAITING, EITHER, REPEATED = 1, 2, 3, 4
local queue_key = base .. 'queue'
local is_level_queue = {}
for _, level in ipairs(level_queues(queue_key)) do is_level_queue[level] = true end
local source = {}
-- Whether entries of KEYS[k] must be checked for the type (a status index or a queue zset, when a
-- type is asked for).
local status_prefix = base .. 's:'
local type_checked = {}
local any_checked = false
for k = 1, #KEYS do
  local name = KEYS[k]
  if is_level_queue[name] then
    source[k] = QUEUED
  elseif name == status_prefix .. 'pending' then
    source[k] = WAITING
  else
    source[k] = false
  end
  type_checked[k] = list_type ~= '' and (source[k] or string.sub(name, 1, #status_prefix) == status_prefix)
  any_checked = any_checked or type_checked[k] or source[k] ~= false
end
-- A queue zset is read up to now only: its entries above are delayed tasks, listed from s:pending.
local now_text = redis_now()
local now = tonumber(now_text)
local filtered = #filter_fields > 0 or any_checked
local scan_max = filtered and math.max(tonumber(ARGV[6]), limit) or limit
-- The KEYS of each part: { first, last }; an empty part has last < first.
local open_count = tonumber(ARGV[8])
local parts = { { 1, open_count }, { open_count + 1, #KEYS } }
local part = tonumber(ARGV[9]) + 1

-- The processing tasks (members of `active` whose task is processing, of type list_type when it is
-- not ''), as { score, id, score text } in listing order: built on first use, once per call.
local processing = false
local function processing_index()
  if processing then return processing end
  processing = {}
  for _, id in ipairs(redis.call('ZRANGE', active_key, 0, -1)) do
    local f = redis.call('HMGET', task_key(base, id), 'status', 'created_at', 'type')
    if f[1] == 'processing' and f[2] and (list_type == '' or f[3] == list_type) then
      processing[#processing + 1] = { tonumber(f[2]), id, f[2], false, id_rank(id) }
    end
  end
  table.sort(processing, listing_order)
  return processing
end

-- The first `want` entries of each index of the current part strictly after `after` ({ score, id,
-- score text }, or nil for the start of the part), merged in listing order. The first `want` of the
-- result are the first `want` of the part.
local function gather(after, want)
  local max = after and after[3] or '+inf'
  local candidates = {}
  -- Several indexes are merged by a sort (listing_order, which wants id_rank); one is in order already.
  local merging = parts[part][2] > parts[part][1]
  for k = parts[part][1], parts[part][2] do
    local got, offset = 0, 0
    local kmax = max
    if source[k] == QUEUED and ((not after) or after[1] > now) then kmax = now_text end
    if KEYS[k] == active_key then
      for _, e in ipairs(processing_index()) do
        if got >= want then break end
        if (not after) or e[1] < after[1] or (e[1] == after[1] and id_after(after[2], e[2])) then
          candidates[#candidates + 1] = e
          got = got + 1
        end
      end
    end
    -- The index holding the cursor's task at the cursor's score: what follows it is what follows its
    -- rank (a zset orders one score's members as the listing does), read by rank. Otherwise (another
    -- index of the part, or the task moved) from the cursor's score on, skipping the entries of that
    -- score that come before it: within a tie of many tasks (one enqueue call, one settle call),
    -- O(position in the tie) per page, where the rank is O(log N).
    local from_rank = false
    if after and KEYS[k] ~= active_key then
      local score = redis.call('ZSCORE', KEYS[k], after[2])
      if score and tonumber(score) == after[1] then from_rank = redis.call('ZREVRANK', KEYS[k], after[2]) + 1 end
    end
    while got < want and KEYS[k] ~= active_key do
      local chunk
      if from_rank then
        chunk = redis.call('ZRANGE', KEYS[k], from_rank + offset, from_rank + offset + want - 1, 'REV', 'WITHSCORES')
      else
        chunk = redis.call('ZRANGE', KEYS[k], kmax, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, want, 'WITHSCORES')
      end
      for j = 1, #chunk, 2 do
        local id, score = chunk[j], tonumber(chunk[j + 1])
        -- Entries tied with the cursor's score came before it unless their id sorts below it.
        if from_rank or (not after) or score < after[1] or id_after(after[2], id) then
          candidates[#candidates + 1] = { score, id, chunk[j + 1], type_checked[k], merging and id_rank(id), source[k] }
          got = got + 1
          if got >= want then break end
        end
      end
      if #chunk < want * 2 then break end
      offset = offset + want
    end
  end
  if merging then
    table.sort(candidates, listing_order)
    -- A task in a queue zset and in s:pending at one score (an older version indexed every pending
    -- task) is one position in the listing, its two entries side by side: the first lists it when it is
    -- pending (EITHER), the second never (REPEATED). Both stay, so the count still says whether the
    -- part has more; deciding by index instead could reject the first and end a page there, and the
    -- next page, strictly after that position, would never reach the second.
    for i = 2, #candidates do
      local a, b = candidates[i - 1], candidates[i]
      if a[6] and b[6] and a[2] == b[2] and a[1] == b[1] then
        a[6], b[6] = EITHER, REPEATED
      end
    end
  end
  return candidates
end

-- Whether candidate c (its task's hash at key) is listed: it matches the filter, has type list_type
-- when c[4] says so, and, read from a queue zset or s:pending (c[6]), is a pending task that this
-- index lists.
local function matches(key, c)
  local check_type, from = c[4], c[6]
  if from == REPEATED then return false end
  if not check_type and not from and #filter_fields == 0 then return true end
  local names = {}
  if check_type then names[#names + 1] = 'type' end
  if from then
    names[#names + 1] = 'status'
    names[#names + 1] = 'created_at'
    names[#names + 1] = 'priority'
  end
  local first = #names
  for j = 1, #filter_fields do names[first + j] = filter_fields[j] end
  local values = task_hmget(key, unpack(names))
  local i = 1
  if check_type then
    if values[1] ~= list_type then return false end
    i = 2
  end
  if from then
    local status, created, priority = values[i], values[i + 1], values[i + 2]
    if status ~= 'pending' or not created then return false end
    if from == QUEUED then
      if tonumber(created) ~= c[1] then return false end
    elseif from == WAITING then
      -- Listed from its queue zset when its score there is its creation time.
      local queued = redis.call('ZSCORE', level_queue(queue_key, priority), c[2])
      if queued and tonumber(queued) == tonumber(created) then return false end
    end
  end
  for j = 1, #filter_fields do
    if (values[first + j] or '') ~= filter_values[j] then return false end
  end
  return true
end

local out = { 0 }
local bytes, matched, examined = 0, 0, 0
local position = false
if ARGV[3] ~= '' then position = { tonumber(ARGV[3]), ARGV[4], ARGV[3] } end
local skipped = false
local window = limit + 1
while true do
  -- Up to want - 1 entries are examined this round; a want-th one says whether more exist.
  local want = math.min(window, scan_max - examined + 1)
  local candidates = gather(position, want)
  local stop = false
  for i = 1, math.min(want - 1, #candidates) do
    if matched >= limit or (max_bytes > 0 and bytes >= max_bytes) then
      stop = true
      break
    end
    local c = candidates[i]
    examined = examined + 1
    position = c
    local key = task_key(base, c[2])
    if filtered and not matches(key, c) then
      skipped = c
      skipped.part = part
    else
      local hash = redis.call('HGETALL', key)
      for j = 1, #hash do bytes = bytes + #hash[j] end
      out[#out + 1] = c[2]
      out[#out + 1] = c[3]
      out[#out + 1] = part - 1
      out[#out + 1] = hash
      matched = matched + 1
      skipped = false
    end
  end
  if stop then
    out[1] = 1
    break
  end
  if #candidates < want then
    -- Every candidate of this part examined and none beyond: the part ends here. The finished part
    -- follows the open one, from its start.
    if part == 2 or parts[2][2] < parts[2][1] then break end
    part = 2
    position = false
    window = limit - matched + 1
  elseif matched >= limit or examined >= scan_max then
    out[1] = 1
    break
  else
    -- Enough for the matches still missing at the rate seen so far, with room to spare.
    window = math.ceil((limit - matched) * examined / math.max(matched, 1) * 1.25) + 1
  end
end
if out[1] == 1 and skipped then
  out[#out + 1] = skipped[2]
  out[#out + 1] = skipped[3]
  out[#out + 1] = skipped.part - 1
  out[#out + 1] = {}
end
return out
