--[[ delete-finished: delete up to `limit` tasks of one final status (DELETE /tasks?status=, one chunk).
  KEYS[1] -> status index s:<status>
  KEYS[2] -> done zset (score = finish time)
  ARGV[1] -> key base of the queue
  ARGV[2] -> status: completed or failed
  ARGV[3] -> limit: most entries examined in this call
  ARGV[4] -> cutoff (ms, finish time): '' = every task of the status; else only tasks finished at or
             before it (the caller computes it once, from `now` of its first call, see ARGV[5])
  ARGV[5] -> older than (ms): when ARGV[4] is '' and this is not '', the cutoff is Redis' now minus this
  ARGV[6] -> offset: entries of done up to the cutoff that earlier calls examined and kept (another status)
  Without a cutoff it takes the first `limit` entries of the status index: each task is removed
  (remove_finished), a stale entry (task gone or in another state) only leaves the index. With one,
  it walks done by finish time from `offset`: tasks of the status are removed, tasks of the other
  final status are kept (the caller adds them to its offset), stray entries leave done.
  Tasks go with their index entries and attempt history, as retention removes them.
  Returns: { tasks deleted, entries examined, entries kept, cutoff used ('' for none) }; a call that
    examined fewer than `limit` entries was the last.
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
  ids = redis.call('ZRANGE', KEYS[2], '-inf', cutoff, 'BYSCORE', 'LIMIT', tonumber(ARGV[6]), limit)
end
local deleted, kept = 0, 0
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = redis.call('HMGET', key, 'status', 'type', 'priority')
  if f[1] == status then
    remove_finished(base, key, id, f[1], f[2], f[3], KEYS[2])
    deleted = deleted + 1
  elseif cutoff == '' then
    redis.call('ZREM', KEYS[1], id)
  elseif f[1] == 'completed' or f[1] == 'failed' then
    kept = kept + 1
  else
    redis.call('ZREM', KEYS[2], id)
  end
end
return { deleted, #ids, kept, cutoff }
