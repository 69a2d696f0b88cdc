--[[ recover: end attempts whose lease expired (the worker died, froze or lost Redis), as a failed attempt.
  KEYS[1] -> active zset (score = lease deadline)
  KEYS[2] -> queue zset
  KEYS[3] -> done zset
  KEYS[4] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> now (ms)
  ARGV[3] -> max number of leases to recover in this call
  ARGV[4] -> error message recorded on the task
  ARGV[5..] -> backoff delay (ms) before retry n+1, for n = 0, 1, 2, ... retries already spent
  Returns: flat list of id, outcome ('retry' | 'failed' | 'dropped'), retries spent after it.
]]
--- @include "common"

local base, now, err = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local ids = redis.call('ZRANGE', KEYS[1], '-inf', now, 'BYSCORE', 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
local wake = false
for _, id in ipairs(ids) do
  local key = task_key(base, id)
  local f = redis.call('HMGET', key, 'status', 'type', 'created_at', 'retries', 'max_retry')
  if f[1] ~= 'processing' then
    -- A lease entry without a running task behind it: drop the entry, the task is elsewhere or gone.
    redis.call('ZREM', KEYS[1], id)
    out[#out + 1] = id; out[#out + 1] = 'dropped'; out[#out + 1] = -1
  else
    local retries = tonumber(f[4])
    if retries < tonumber(f[5]) then
      local delay = tonumber(ARGV[5 + retries] or ARGV[#ARGV])
      schedule_retry(base, key, id, f[2], f[3], err, now, now + delay, KEYS[2], KEYS[1])
      out[#out + 1] = id; out[#out + 1] = 'retry'; out[#out + 1] = retries + 1
      wake = true
    else
      finish(base, key, id, f[2], f[3], 'failed', err, now, KEYS[1], KEYS[3])
      out[#out + 1] = id; out[#out + 1] = 'failed'; out[#out + 1] = retries
    end
  end
end
-- Wake one idle worker so it recomputes how long to block for the earliest waiting task.
if wake then redis.call('ZADD', KEYS[4], 0, '0') end
return out
