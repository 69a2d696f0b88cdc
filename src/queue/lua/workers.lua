--[[ workers: the live worker processes (GET /workers, the taskqueue_workers gauge), read-only.
  KEYS[1] -> index zset of worker processes (score = when the entry expires, ms)
  ARGV[1] -> key prefix of the process hashes (the index's name followed by ':'), same hash tag
  An entry counts while its time has not run out by Redis' clock and its hash still exists.
  Returns: { now (ms), then per live process: id, { field, value, ... } }
]]
--- @include "common"

local now = redis_now()
local out = { now }
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], '(' .. now, '+inf', 'BYSCORE')) do
  local fields = redis.call('HGETALL', ARGV[1] .. id)
  if #fields > 0 then
    out[#out + 1] = id
    out[#out + 1] = fields
  end
end
return out
