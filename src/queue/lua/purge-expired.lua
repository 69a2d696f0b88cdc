--[[ purge-expired: remove finished tasks older than the retention period, with their index entries.
  KEYS[1] -> s:completed (score = finish time)
  KEYS[2] -> s:failed (score = finish time)
  ARGV[1] -> key base of the queue
  ARGV[2] -> retention (ms): tasks finished at or before now - retention are removed (Redis' clock, TIME)
  ARGV[3] -> max number of index entries to handle in this call
  Walks each index from its oldest entry up to the cutoff (s:completed first).
  Returns: number of entries handled (tasks removed, entries rescored, stray entries dropped), so a
    caller that gets `limit` back knows more may be due.
  A task goes with its attempt history (t:<id>:h).
  Only tasks in the index's status are removed: an entry whose task is gone or in another state is
  stray and only the entry is dropped; an unfinished task is never deleted by retention. An entry that
  a process of the old version scored by creation time is rescored to the finish time instead when the
  task finished after the cutoff (due_by_finish), so it is removed when its time comes, not before.
]]
--- @include "common"
--- @include "task-options"
--- @include "admin"

local base, limit = ARGV[1], tonumber(ARGV[3])
local cutoff = ms_string(redis_now() - tonumber(ARGV[2]))
local handled = 0
for k, status in ipairs({ 'completed', 'failed' }) do
  if handled >= limit then break end
  local ids = redis.call('ZRANGE', KEYS[k], '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, limit - handled)
  for _, id in ipairs(ids) do
    local key = task_key(base, id)
    local f = task_hmget(key, 'status', 'type', 'priority', 'completed_at', 'updated_at')
    if f[1] ~= status then
      redis.call('ZREM', KEYS[k], id)
    elseif due_by_finish(KEYS[k], id, finish_time(f[4], f[5]), cutoff) then
      remove_finished(base, key, id, f[1], f[2], f[3])
    end
  end
  handled = handled + #ids
end
return handled
