--[[ settle: end one or more attempts, each fenced by its lease token (a worker's outcomes, batched).
  KEYS[1] -> active zset
  KEYS[2] -> queue zset
  KEYS[3] -> done zset (score = finish time, drives retention)
  KEYS[4] -> wake-up marker zset
  ARGV[1] -> key base of the queue
  ARGV[2] -> now (ms)
  ARGV[3..] -> groups of 5: id, token, mode, text, delay_ms
    mode 'complete': processing -> completed, text = result
    mode 'retry':    processing -> pending until now + delay_ms (run_at), spends a retry, text = error
    mode 'fail':     processing -> failed, text = error
    mode 'requeue':  processing -> pending at once, no retry spent (shutdown, prefetch handed back)
  Returns: one code per group, in order: 1, or ERR_NOT_FOUND (deleted) / ERR_LEASE_LOST (the lease was
    recovered or re-leased: this worker's outcome is discarded and the task is not touched).
]]
--- @include "common"

local base, now = ARGV[1], ARGV[2]
local codes = {}
local wake = false
for i = 3, #ARGV, 5 do
  local id, mode, text = ARGV[i], ARGV[i + 2], ARGV[i + 3]
  local key = task_key(base, id)
  local rc, task_type, created = check_lease(key, ARGV[i + 1])
  if rc == 0 then
    if mode == 'complete' then
      finish(base, key, id, task_type, created, 'completed', text, now, KEYS[1], KEYS[3])
    elseif mode == 'retry' then
      -- The backoff counts from this write, so run_at - updated_at is exactly the delay.
      schedule_retry(base, key, id, task_type, created, text, now, now + tonumber(ARGV[i + 4]), KEYS[2], KEYS[1])
      wake = true
    elseif mode == 'fail' then
      finish(base, key, id, task_type, created, 'failed', text, now, KEYS[1], KEYS[3])
    else
      requeue(base, key, id, task_type, created, now, KEYS[2], KEYS[1])
      wake = true
    end
    rc = 1
  end
  codes[#codes + 1] = rc
end
if wake then redis.call('ZADD', KEYS[4], 0, '0') end
return codes
