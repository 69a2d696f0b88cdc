--[[ worker-leave: a worker process that shuts down removes its entry (GET /workers no longer lists it).
  KEYS[1] -> index zset of worker processes
  KEYS[2] -> this process's hash
  ARGV[1] -> process id
  Returns: 1.
]]
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
