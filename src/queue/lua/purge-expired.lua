--[[ purge-expired: remove finished tasks older than the retention period, with their index entries.
  KEYS[1] -> done zset (score = finish time)
  ARGV[1] -> key base of the queue
  ARGV[2] -> retention (ms): tasks finished at or before now - retention are removed (Redis' clock, TIME)
  ARGV[3] -> max number of tasks to remove in this call
  Returns: number of done entries handled (tasks removed, plus stray entries dropped), so a caller
    that gets `limit` back knows more may be due.
  A task goes with its attempt history (t:<id>:h).
  Only finished (completed/failed) tasks are removed: a done entry whose task is gone or not finished
  is stray and only the entry is dropped; an unfinished task is never deleted by retention.
]]
--- @include "common"
--- @include "task-options"
--- @include "admin"

local base = ARGV[1]
local cutoff = ms_string(redis_now() - tonumber(ARGV[2]))
local ids = redis.call('ZRANGE', KEYS[1], '-inf', cutoff, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = redis.call('HMGET', key, 'status', 'type', 'priority')
  if f[1] == 'completed' or f[1] == 'failed' then
    remove_finished(base, key, id, f[1], f[2], f[3], KEYS[1])
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return #ids
