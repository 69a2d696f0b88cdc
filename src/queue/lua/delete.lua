--[[ delete: remove a task from every structure, whatever its state.
  KEYS[1] -> task hash
  KEYS[2] -> queue zset of the normal level (a task of another priority waits in level_queue)
  KEYS[3] -> active zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> id
  ARGV[3] -> cancel channel
  Returns: 1, or ERR_NOT_FOUND.
  The attempt history (t:<id>:h) goes with the task, and 'deleted' is published on the events
  channel so that requests waiting for the task answer 404 at once.
  A running task's worker hears of it on the cancel channel and aborts its handler; were the message
  missed, its next heartbeat or its completion finds the task gone (fencing), so it never comes back.
]]
--- @include "common"
--- @include "task-options"

local id = ARGV[2]
local f = task_hmget(KEYS[1], 'status', 'type', 'attempts', 'priority')
if not f[1] then return ERR_NOT_FOUND end
redis.call('DEL', KEYS[1], history_key(ARGV[1], id))
redis.call('ZREM', level_queue(KEYS[2], f[4]), id)
if f[4] then redis.call('ZREM', priority_key(ARGV[1], f[4]), id) end
redis.call('ZREM', KEYS[3], id)
index_remove(ARGV[1], id, f[2], f[1])
if f[1] == 'processing' then redis.call('PUBLISH', ARGV[3], id) end
publish_event(id, 'deleted', f[3])
flush_events(ARGV[1])
return 1
