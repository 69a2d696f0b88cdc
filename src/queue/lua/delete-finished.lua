--[[ delete-finished: delete up to `limit` tasks of one final status (DELETE /tasks?status=, one chunk).
  KEYS[1] -> status index s:<status> (score = finish time)
  ARGV[1] -> key base of the queue
  ARGV[2] -> status: completed or failed
  ARGV[3] -> limit: most entries examined in this call
  ARGV[4] -> cutoff (ms, finish time): '' = every task of the status; else only tasks finished at or
             before it (the caller computes it once, from `now` of its first call, see ARGV[5])
  ARGV[5] -> older than (ms): when ARGV[4] is '' and this is not '', the cutoff is Redis' now minus this
  Takes the first `limit` entries of the status index (oldest finished first), with a cutoff only
  those scored at or before it: each task of the status is removed (remove_finished), a stale entry
  (task gone or in another state) only leaves the index. With a cutoff, a task that finished after it
  but whose entry a process of the old version scored by creation time is kept and its entry rescored
  (due_by_finish), which takes it out of the range.
  Tasks go with their index entries and attempt history, as retention removes them.
  Returns: { tasks deleted, entries examined, cutoff used ('' for none) }; a call that examined fewer
    than `limit` entries was the last.
]]
--- @include "common"
--- @include "task-options"
--- @include "admin"

local base, status, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local cutoff = ARGV[4]
if cutoff == '' and ARGV[5] ~= '' then cutoff = ms_string(redis_now() - tonumber(ARGV[5])) end
local ids
if cutoff == '' then
  ids = redis.call('ZRANGE', KEYS[1], 0, limit - 1)
else
  ids = redis.call('ZRANGE', KEYS[1], '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, limit)
end
local deleted = 0
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = task_hmget(key, 'status', 'type', 'priority', 'completed_at', 'updated_at')
  if f[1] ~= status then
    redis.call('ZREM', KEYS[1], id)
  elseif cutoff == '' or due_by_finish(KEYS[1], id, finish_time(f[4], f[5]), cutoff) then
    remove_finished(base, key, id, f[1], f[2], f[3])
    deleted = deleted + 1
  end
end
return { deleted, #ids, cutoff }
