"""The Lua scripts of the Redis queue: one per operation, each atomic on the server.

Each script is the shared ``PRELUDE`` of ``redis_layout`` (the key layout and the functions
that keep its rules) followed by the operation. Scripts get key prefixes and times as
arguments: the client's clock decides, never the server's.
"""

from __future__ import annotations

from mangaassist.queues.redis_layout import PRELUDE

__all__ = [
    "ATTRIBUTES",
    "CHANGE_VISIBILITY",
    "CREATE",
    "DELETE",
    "PURGE",
    "RECEIVE",
    "REDRIVE",
    "SEND",
]


#: Store a queue's settings and create its consumer group (if new).
#: ARGV: configs hash, name, settings, prefix.
CREATE = (
    PRELUDE
    + """
redis.call('HSET', ARGV[1], ARGV[2], ARGV[3])
redis.pcall('XGROUP', 'CREATE', ARGV[4] .. 's', GROUP, 0, 'MKSTREAM')  -- BUSYGROUP: it exists
return 1
"""
)

#: Send messages; returns their ids (a FIFO duplicate within the window: the first one's).
#: ARGV: prefix, now, fifo (1/0), dedup cutoff (now - window), and the messages as one JSON
#: array of ``[id, delay, group ('' = none), dedup id, [field, value, ...]]`` (one argument
#: instead of a dozen per message: encoding arguments is most of a client's cost).
SEND = (
    PRELUDE
    + """
local q, now, fifo, dedup_cutoff = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
if fifo then
  local stale = redis.call('ZRANGEBYSCORE', q .. 'x', '-inf', dedup_cutoff, 'LIMIT', 0, BATCH)
  if #stale > 0 then
    redis.call('ZREM', q .. 'x', unpack(stale))
    redis.call('HDEL', q .. 'y', unpack(stale))
  end
end
local ids, woke = {}, false
for _, message in ipairs(cjson.decode(ARGV[5])) do
  local id, delay, group, dedup, fields = unpack(message)
  local first = false
  if fifo then
    local at = redis.call('ZSCORE', q .. 'x', dedup)
    if at and tonumber(at) > dedup_cutoff then
      first = redis.call('HGET', q .. 'y', dedup)
    end
  end
  if first then
    ids[#ids + 1] = first
  else
    if fifo then
      redis.call('ZADD', q .. 'x', now, dedup)
      redis.call('HSET', q .. 'y', dedup, id)
    end
    woke = enqueue(q, fields, now, now, delay, fifo and group) or woke
    ids[#ids + 1] = id
  end
end
if woke then
  wake(q)
end
return ids
"""
)

#: Receive up to ``limit`` messages: visible again ones first (XCLAIM), then new ones
#: (XREADGROUP); messages past the redrive policy move to the dead-letter queue instead.
#: ARGV: prefix, now, retention cutoff, queue delay, limit, visibility, token, max receive
#: count (0 = no redrive policy), dead-letter prefix, queue name.
#: Returns {wake id, next due time or '', JSON array of [entry id, receive count, [field,
#: value, ...]] (one string, parsed in C, instead of a dozen replies per message)}.
RECEIVE = (
    PRELUDE
    + """
local q, now, cutoff, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local limit, visibility, token = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7]
local max_receives, dead, source = tonumber(ARGV[8]), ARGV[9], ARGV[10]
sweep(q, now, delay, cutoff)
release(q, now)
local out, taken, woke, died = {}, 0, false, false
local deadlines, receipts = {}, {}  -- written once at the end

local function deliver(id, count, fields)
  taken = taken + 1
  out[taken] = {id, count, fields}
  deadlines[2 * taken - 1], deadlines[2 * taken] = now + visibility, id
  receipts[2 * taken - 1], receipts[2 * taken] = id, count .. ' ' .. token
end

-- Visible again, oldest deadline first. Entries delivered here keep their old deadline until
-- the end ('kept' in the range), so each pass looks that much further.
local seen, kept = {}, 0
while taken < limit do
  local ids = redis.call('ZRANGEBYSCORE', q .. 'f', '-inf', now, 'LIMIT', 0, limit - taken + kept)
  local fresh = false
  for _, id in ipairs(ids) do
    if taken < limit and not seen[id] then
      seen[id], fresh = true, true
      local count = tonumber(string.match(redis.call('HGET', q .. 'r', id) or '0', '^%d+'))
      local entry = redis.call('XCLAIM', q .. 's', GROUP, CONSUMER, 0, id,
        'RETRYCOUNT', count + 1)[1]
      if not entry then
        unready(q, {id})
      elseif tonumber(field(entry[2], SENT)) <= cutoff then
        woke = remove(q, id, entry[2], now, delay, cutoff) or woke
      elseif max_receives > 0 and count >= max_receives then
        move(entry[2], dead, now, source, count)
        died = true
        woke = remove(q, id, entry[2], now, delay, cutoff) or woke
      else
        deliver(id, count + 1, entry[2])
        kept = kept + 1
      end
    end
  end
  if not fresh then
    break
  end
end

-- Never delivered. Without a group (a Redis that lost it), create it and read from the start.
local created = false
while taken < limit do
  local reply = redis.pcall('XREADGROUP', 'GROUP', GROUP, CONSUMER, 'COUNT', limit - taken,
    'STREAMS', q .. 's', '>')
  if type(reply) == 'table' and reply.err then
    if created or not string.find(reply.err, 'NOGROUP', 1, true) then
      return reply
    end
    redis.call('XGROUP', 'CREATE', q .. 's', GROUP, 0, 'MKSTREAM')
    created = true
  elseif not reply or #reply[1][2] == 0 then
    break
  else
    for _, entry in ipairs(reply[1][2]) do
      if tonumber(field(entry[2], SENT)) <= cutoff then
        woke = remove(q, entry[1], entry[2], now, delay, cutoff) or woke
      else
        deliver(entry[1], 1, entry[2])
      end
    end
  end
end

if died then
  wake(dead)
end
if woke then
  wake(q)
end
if taken > 0 then
  redis.call('ZADD', q .. 'f', unpack(deadlines))
  redis.call('HSET', q .. 'r', unpack(receipts))
  return {'', '', cjson.encode(out)}
end
local wake_id, next_due = '0-0', ''
do
  local last = redis.call('XREVRANGE', q .. 'w', '+', '-', 'COUNT', 1)[1]
  if last then
    wake_id = last[1]
  end
  local delayed = redis.call('ZRANGE', q .. 'd', 0, 0, 'WITHSCORES')[2]
  local hidden = redis.call('ZRANGEBYSCORE', q .. 'f', '(' .. ARGV[2], '+inf', 'WITHSCORES',
    'LIMIT', 0, 1)[2]
  if delayed and (not hidden or tonumber(delayed) < tonumber(hidden)) then
    next_due = delayed
  elseif hidden then
    next_due = hidden
  end
end
return {wake_id, next_due, '[]'}
"""
)

#: Delete by receipt: 1 per deleted message, 0 per unknown or stale handle.
#: ARGV: prefix, now, retention cutoff, queue delay, fifo (1/0), then entry id, token pairs.
DELETE = (
    PRELUDE
    + """
local q, now, cutoff, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local fifo = ARGV[5] == '1'
local ids, tokens = {}, {}
for i = 6, #ARGV, 2 do
  ids[#ids + 1], tokens[#tokens + 1] = ARGV[i], ARGV[i + 1]
end
local receipts = redis.call('HMGET', q .. 'r', unpack(ids))
local out, done, standard, woke = {}, {}, {}, false
for i, id in ipairs(ids) do
  out[i] = 0
  if not done[id] and token_of(receipts[i]) == tokens[i] then
    out[i], done[id] = 1, true
    local entry = fifo and redis.call('XRANGE', q .. 's', id, id)[1]
    if entry then
      woke = remove(q, id, entry[2], now, delay, cutoff) or woke
    else
      standard[#standard + 1] = id
    end
  end
end
if #standard > 0 then
  unready(q, standard)
end
if woke then
  wake(q)
end
return out
"""
)

#: Hide an in-flight message until a new time (now: visible at once); 1 if it was in flight.
#: ARGV: prefix, entry id, token, now, new visible time.
CHANGE_VISIBILITY = (
    PRELUDE
    + """
local q, id = ARGV[1], ARGV[2]
if token_of(redis.call('HGET', q .. 'r', id)) ~= ARGV[3] then
  return 0
end
local at = redis.call('ZSCORE', q .. 'f', id)
if not at or tonumber(at) <= tonumber(ARGV[4]) then
  return 0
end
redis.call('ZADD', q .. 'f', ARGV[5], id)
if tonumber(ARGV[5]) <= tonumber(ARGV[4]) then
  wake(q)
end
return 1
"""
)

#: Delete every message (deduplication ids stay, as in SQS) and recreate the consumer group.
#: ARGV: prefix.
PURGE = (
    PRELUDE
    + """
local q = ARGV[1]
for _, group in ipairs(redis.call('HKEYS', q .. 'h')) do
  redis.call('DEL', q .. 'g:' .. group)
end
redis.call('DEL', q .. 's', q .. 'p', q .. 'd', q .. 'f', q .. 'r', q .. 't', q .. 'h')
redis.call('XGROUP', 'CREATE', q .. 's', GROUP, 0, 'MKSTREAM')
return 1
"""
)

#: Counts: {messages, in flight, delayed, oldest send time or ''}, after a bounded sweep.
#: ARGV: prefix, now, retention cutoff, queue delay.
ATTRIBUTES = (
    PRELUDE
    + """
local q, now, cutoff, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
for _ = 1, 10 do
  if not sweep(q, now, delay, cutoff) then
    break
  end
end
local live, later = '(' .. ARGV[3], '(' .. ARGV[2]
return {
  redis.call('ZCOUNT', q .. 't', live, '+inf'),
  redis.call('ZCOUNT', q .. 'f', later, '+inf'),
  redis.call('ZCOUNT', q .. 'd', later, '+inf'),
  redis.call('ZRANGEBYSCORE', q .. 't', live, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)[2] or '',
}
"""
)

#: Move up to ``limit`` ready messages that are not in flight (with the FIFO messages parked
#: behind them) from a dead-letter queue to the end of another queue, in stream order, up to
#: the entry ``stop`` (the stream's last entry when the redrive started: '' finds it).
#: ARGV: source prefix, target prefix, now, source retention cutoff, source delay, limit,
#: cursor ('-' at first), stop. Returns {moved, next cursor ('' when done), stop}.
REDRIVE = (
    PRELUDE
    + """
local src, dst, now = ARGV[1], ARGV[2], tonumber(ARGV[3])
local cutoff, delay, limit = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local cursor, stop = ARGV[7], ARGV[8]
if stop == '' then
  release(src, now)
  local last = redis.call('XREVRANGE', src .. 's', '+', '-', 'COUNT', 1)[1]
  if not last then
    return {0, '', ''}
  end
  stop = last[1]
end
local moved = 0
local function take(fields)
  if tonumber(field(fields, SENT)) > cutoff then
    move(fields, dst, now, false, 0)
    moved = moved + 1
  end
end
for _ = 1, 10 do
  local entries = redis.call('XRANGE', src .. 's', cursor, stop, 'COUNT', BATCH)
  if #entries == 0 then
    cursor = ''
    break
  end
  for _, entry in ipairs(entries) do
    if moved >= limit then
      break
    end
    local id, fields = entry[1], entry[2]
    cursor = '(' .. id
    local at = redis.call('ZSCORE', src .. 'f', id)
    if not at or tonumber(at) <= now then  -- in flight: its FIFO group waits too
      local group = field(fields, GROUP_ID)
      take(fields)
      unready(src, {id})
      if group then
        while moved < limit do
          local next_id = redis.call('LPOP', src .. 'g:' .. group)
          if not next_id then
            break
          end
          local behind = parked(src, next_id)
          if behind then
            unpark(src, next_id)
            take(behind)
          end
        end
        promote(src, group, now, delay, cutoff)
      end
    end
  end
  if moved >= limit then
    break
  end
end
if moved > 0 then
  wake(dst)
end
return {moved, cursor, stop}
"""
)
