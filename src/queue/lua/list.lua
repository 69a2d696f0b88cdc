--[[ list: one page of tasks, newest first, from one index or the merge of several, optionally filtered.
  KEYS[1..n] -> listing index zsets (score = creation time); several are merged (all statuses, or one
                type across statuses). Cost: O(n * (log N + limit)), whatever the number of tasks.
  ARGV[1] -> key base of the queue
  ARGV[2] -> limit
  ARGV[3] -> cursor score ('' for the first page)
  ARGV[4] -> cursor id
  ARGV[5] -> byte budget: no further task is added once the task hashes read reach it (the first
             always is); 0 = none. Bounds the reply (and the time Redis spends on it) when tasks are large
  ARGV[6] -> scan budget of a filtered page: most index entries it examines (at least limit)
  ARGV[7..] -> filter, pairs: task field, value ('' matches a task without the field); none = every
             task of the indexes. A filtered page examines up to the scan budget of entries and returns
             the matching ones, so it may hold fewer than limit tasks (even none) and still have more.
  Order is (score desc, id desc); the cursor is the last (score, id) returned, so a page starts
  strictly after it even when many tasks share one millisecond.
  Returns: { has_more (0|1), then per task: id, score, { field, value, ... } }
    has_more is 1 when the page was cut short by the limit, the byte budget or the scan budget. A
    filtered page that ends on entries that did not match ends with the last of them and an empty
    field list, so that the cursor moves past them (a reader skips tasks without fields).
]]
--- @include "common"

local base, limit = ARGV[1], tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[5]) or 0
local filter_fields, filter_values = {}, {}
for k = 7, #ARGV, 2 do
  filter_fields[#filter_fields + 1] = ARGV[k]
  filter_values[#filter_values + 1] = ARGV[k + 1]
end
local filtered = #filter_fields > 0
local scan_max = filtered and math.max(tonumber(ARGV[6]), limit) or limit
local has_cursor = ARGV[3] ~= ''
local cursor_score, cursor_id = tonumber(ARGV[3]), ARGV[4]
local max = has_cursor and ARGV[3] or '+inf'
local want = scan_max + 1
local candidates = {}
for k = 1, #KEYS do
  local got, offset = 0, 0
  while got < want do
    local chunk = redis.call('ZRANGE', KEYS[k], max, '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, want, 'WITHSCORES')
    for j = 1, #chunk, 2 do
      local id, score = chunk[j], tonumber(chunk[j + 1])
      -- Entries tied with the cursor's score were on an earlier page unless their id sorts below it.
      if (not has_cursor) or score < cursor_score or id < cursor_id then
        candidates[#candidates + 1] = { score, id, chunk[j + 1] }
        got = got + 1
        if got >= want then break end
      end
    end
    if #chunk < want * 2 then break end
    offset = offset + want
  end
end
table.sort(candidates, function(a, b)
  if a[1] ~= b[1] then return a[1] > b[1] end
  return a[2] > b[2]
end)

local function matches(key)
  local values = redis.call('HMGET', key, unpack(filter_fields))
  for j = 1, #filter_fields do
    if (values[j] or '') ~= filter_values[j] then return false end
  end
  return true
end

local out = { #candidates > scan_max and 1 or 0 }
local bytes = 0
local matched = 0
local skipped = false
local last = math.min(scan_max, #candidates)
for i = 1, last do
  if matched >= limit or (max_bytes > 0 and bytes >= max_bytes) then
    out[1] = 1
    break
  end
  local id = candidates[i][2]
  local key = task_key(base, id)
  if filtered and not matches(key) then
    skipped = candidates[i]
  else
    local hash = redis.call('HGETALL', key)
    for j = 1, #hash do bytes = bytes + #hash[j] end
    out[#out + 1] = id
    out[#out + 1] = candidates[i][3]
    out[#out + 1] = hash
    matched = matched + 1
    skipped = false
  end
end
if out[1] == 1 and skipped then
  out[#out + 1] = skipped[2]
  out[#out + 1] = skipped[3]
  out[#out + 1] = {}
end
return out
