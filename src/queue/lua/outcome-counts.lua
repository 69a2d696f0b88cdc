--[[ outcome-counts: the per-minute outcome counters of one queue (GET /stats), read-only.
  KEYS[1] -> queue zset of the normal level: not read, it routes the call to the queue's node on Cluster
  ARGV[1] -> key base of the queue; the counters are `stat:<minute>` under it (lua/lib/common.lua
             flush_counts), so they share the queue's hash tag
  ARGV[2] -> number of minutes to read, the current minute (by Redis' clock) last
  Returns: { now (ms), then per minute, oldest first: completed, failed }
]]
--- @include "common"

local base = ARGV[1]
local now = redis_now()
local out = { now }
local minute = math.floor(tonumber(now) / 60000)
for m = minute - tonumber(ARGV[2]) + 1, minute do
  local c = redis.call('HMGET', stat_key(base, m), 'completed', 'failed')
  out[#out + 1] = tonumber(c[1]) or 0
  out[#out + 1] = tonumber(c[2]) or 0
end
return out
