--[[ list: one page of tasks, newest first, from one index or the merge of several.
  KEYS[1..n] -> listing index zsets (score = creation time); several are merged (all statuses, or one
                type across statuses). Cost: O(n * (log N + limit)), whatever the number of tasks.
  ARGV[1] -> key base of the queue
  ARGV[2] -> limit
  ARGV[3] -> cursor score ('' for the first page)
  ARGV[4] -> cursor id
  ARGV[5] -> byte budget: no further task is added once the task hashes read reach it (the first
             always is); 0 = none. Bounds the reply (and the time Redis spends on it) when tasks are large
  Order is (score desc, id desc); the cursor is the last (score, id) returned, so a page starts
  strictly after it even when many tasks share one millisecond.
  Returns: { has_more (0|1), then per task: id, score, { field, value, ... } }
    has_more is 1 when the page was cut short by the limit or the byte budget.
]]
--- @include "common"

local base, limit = ARGV[1], tonumber(ARGV[2])
local max_bytes = tonumber(ARGV[5]) or 0
local has_cursor = ARGV[3] ~= ''
local cursor_score, cursor_id = tonumber(ARGV[3]), ARGV[4]
local max = has_cursor and ARGV[3] or '+inf'
local want = limit + 1
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
local out = { #candidates > limit and 1 or 0 }
local bytes = 0
local last = math.min(limit, #candidates)
for i = 1, last do
  if max_bytes > 0 and bytes >= max_bytes then
    out[1] = 1
    break
  end
  local id = candidates[i][2]
  local hash = redis.call('HGETALL', task_key(base, id))
  for j = 1, #hash do bytes = bytes + #hash[j] end
  out[#out + 1] = id
  out[#out + 1] = candidates[i][3]
  out[#out + 1] = hash
end
return out
