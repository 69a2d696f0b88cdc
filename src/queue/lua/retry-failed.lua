--[[ retry-failed: send up to `limit` failed tasks back to pending (POST /tasks/retry-failed, one chunk).
  KEYS[1] -> the index to walk: s:failed
  KEYS[2] -> queue zset of the normal level (a task of another priority goes to level_queue)
  KEYS[3] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> limit: most index entries handled in this call
  ARGV[3] -> type: only failed tasks of this type are sent back ('' = every type)
  ARGV[4] -> offset: entries of the index that earlier calls kept (another type), skipped
  Takes `limit` entries of the index (oldest finished first) after the first `offset`; each failed task
  (of the type, when given) becomes pending, due now, with a fresh retry budget (revive_failed), which
  also takes it out of the index; one of another type is kept (the caller adds it to its offset). An
  entry whose task is gone or not failed is stale and dropped from the index. A caller repeats until
  a call handles fewer than `limit`.
  Time: Redis' clock (TIME).
  Returns: { tasks sent back, entries handled, size of the index before this call, entries kept }
]]
--- @include "common"
--- @include "task-options"
--- @include "admin"

local base, wanted, offset = ARGV[1], ARGV[3] or '', tonumber(ARGV[4]) or 0
local size = redis.call('ZCARD', KEYS[1])
local ids = redis.call('ZRANGE', KEYS[1], offset, offset + tonumber(ARGV[2]) - 1)
local now = redis_now()
local retried, kept = 0, 0
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = task_hmget(key, 'status', 'type', 'created_at', 'priority', 'attempts')
  if f[1] == 'failed' and wanted ~= '' and f[2] ~= wanted then
    kept = kept + 1
  elseif f[1] == 'failed' then
    revive_failed(base, key, id, f[2], f[3], f[4], f[5], now, KEYS[2])
    retried = retried + 1
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
if retried > 0 then redis.call('ZADD', KEYS[3], 0, '0') end
flush_events(base)
return { retried, #ids, size, kept }
