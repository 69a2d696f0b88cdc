--[[ get-task: one task and its attempt history, read together (one snapshot).
  KEYS[1] -> task hash
  KEYS[2] -> its history list (t:<id>:h, oldest first)
  Returns: { { field, value, ... }, { entry, ... } } (both empty when there is no such task)
]]
return { redis.call('HGETALL', KEYS[1]), redis.call('LRANGE', KEYS[2], 0, -1) }
