"""How the Redis queue lays out a queue in keys, and the Lua functions that keep its rules.

Keys of queue ``Q`` start with the prefix ``q`` = ``{namespace}:queue:{Q}:`` (``:`` and ``%`` in
the name percent-encoded, so no queue's keys can run into another's):

- ``q..'s'``: the *ready stream*. Its entries are the messages a receive may deliver, read
  through the consumer group ``receivers``; a delivered entry stays in the group's pending list
  until it is deleted (``XACK`` + ``XDEL``).
- ``q..'p'``: the *parked stream*: messages not ready yet (delayed, or behind their FIFO group's
  head). ``q..'d'`` (sorted set) holds the due time of the delayed ones.
- ``q..'f'``: sorted set of delivered entries, scored by the time they become visible again.
  A receive first ``XCLAIM``s the entries whose time has come, then reads new ones; the time is
  the client's clock (an argument), never the server's, so tests can use a fake clock.
- ``q..'r'``: hash entry id -> ``"<receive count> <token>"``; a receipt handle names the entry
  and the token of the receive that delivered it, so a later receive makes it stale.
- ``q..'t'``: sorted set of every message by send time, named ``s:<id>`` or ``p:<id>`` after
  the stream it is in: counts, the oldest age, and retention (``sweep``) without a scan.
- FIFO: ``q..'h'`` hash group -> its head (oldest message, the only one ready or delayed) and
  ``q..'g:'..group`` list of the parked entries behind it. Whatever removes a head promotes
  the next one (``promote``), so a group has at most one message in flight, in order.
  ``q..'x'`` (sorted set, send time) and ``q..'y'`` (hash, message id) remember deduplication
  ids for the window, even after the message is gone.
- ``q..'w'``: a one-entry *wake stream*, appended whenever a message becomes ready; an idle
  long poll blocks on ``XREAD`` from the last id it saw, so it returns as soon as any client
  in any process makes a message ready, and misses nothing that happened before it blocked.

Scripts compute keys from the prefixes they get, so a namespace must live on one Redis node
(standalone Redis, or a cluster-mode-disabled ElastiCache).
"""

from __future__ import annotations

import json

from mangaassist.queues.base import (
    DLQ_ATTRIBUTE_PREFIX,
    DLQ_RECEIVE_COUNT_ATTRIBUTE,
    DLQ_SOURCE_ATTRIBUTE,
)

__all__ = [
    "ATTRIBUTE_PREFIX",
    "BATCH",
    "BODY",
    "DEDUP_ID",
    "GROUP_ID",
    "MESSAGE_ID",
    "PRELUDE",
    "SENT_AT",
]

#: Field names of a stream entry (one letter each: they are stored with every message).
MESSAGE_ID, BODY, SENT_AT, GROUP_ID, DEDUP_ID = "i", "b", "t", "g", "d"
#: Attributes are fields named ``a:<name>``.
ATTRIBUTE_PREFIX = "a:"
#: Expired messages swept, delayed messages released and stream entries examined per step:
#: bounds the time one script holds the server.
BATCH = 100

_CONSTANTS = f"""
local GROUP, CONSUMER = 'receivers', 'any'
local BATCH = {BATCH}
local SENT, GROUP_ID = {json.dumps(SENT_AT)}, {json.dumps(GROUP_ID)}
local DLQ_PREFIX = {json.dumps(ATTRIBUTE_PREFIX + DLQ_ATTRIBUTE_PREFIX)}
local DLQ_SOURCE = {json.dumps(ATTRIBUTE_PREFIX + DLQ_SOURCE_ATTRIBUTE)}
local DLQ_COUNT = {json.dumps(ATTRIBUTE_PREFIX + DLQ_RECEIVE_COUNT_ATTRIBUTE)}
"""

# Shared functions. Numbers are never concatenated into strings (Lua prints 14 digits); times
# go to Redis as numbers (17 digits) or as the caller's own strings.
_FUNCTIONS = """
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then
      return fields[i + 1]
    end
  end
  return nil
end

local function wake(q)
  redis.call('XADD', q .. 'w', 'MAXLEN', 1, '*', 'n', 1)
end

local function ready(q, fields, sent, group)
  local id = redis.call('XADD', q .. 's', '*', unpack(fields))
  redis.call('ZADD', q .. 't', sent, 's:' .. id)
  if group then
    redis.call('HSET', q .. 'h', group, 's:' .. id)
  end
end

local function park(q, fields, sent)
  local id = redis.call('XADD', q .. 'p', '*', unpack(fields))
  redis.call('ZADD', q .. 't', sent, 'p:' .. id)
  return id
end

local function parked(q, id)
  local entry = redis.call('XRANGE', q .. 'p', id, id)[1]
  return entry and entry[2]
end

local function unpark(q, id)
  redis.call('XDEL', q .. 'p', id)
  redis.call('ZREM', q .. 'd', id)
  redis.call('ZREM', q .. 't', 'p:' .. id)
end

-- Forget ready messages (a list of entry ids: one call per structure, not per message).
local function unready(q, ids)
  local members = {}
  for i, id in ipairs(ids) do
    members[i] = 's:' .. id
  end
  redis.call('XACK', q .. 's', GROUP, unpack(ids))
  redis.call('XDEL', q .. 's', unpack(ids))
  redis.call('ZREM', q .. 'f', unpack(ids))
  redis.call('HDEL', q .. 'r', unpack(ids))
  redis.call('ZREM', q .. 't', unpack(members))
end

-- Add a message at the end of q: behind its FIFO group's head, delayed, or ready (true).
local function enqueue(q, fields, sent, now, delay, group)
  if group and redis.call('HEXISTS', q .. 'h', group) == 1 then
    redis.call('RPUSH', q .. 'g:' .. group, park(q, fields, sent))
    return false
  end
  if delay > 0 then
    local id = park(q, fields, sent)
    redis.call('ZADD', q .. 'd', now + delay, id)
    if group then
      redis.call('HSET', q .. 'h', group, 'p:' .. id)
    end
    return false
  end
  ready(q, fields, sent, group)
  return true
end

-- The head of a FIFO group is gone: the next live message behind it becomes the head, due
-- at its send time plus the queue's delay. True when it is ready now.
local function promote(q, group, now, delay, cutoff)
  local backlog = q .. 'g:' .. group
  while true do
    local id = redis.call('LPOP', backlog)
    if not id then
      redis.call('HDEL', q .. 'h', group)
      return false
    end
    local fields = parked(q, id)
    if fields then
      local sent = tonumber(field(fields, SENT))
      if sent > cutoff then
        if sent + delay > now then
          redis.call('ZADD', q .. 'd', sent + delay, id)
          redis.call('HSET', q .. 'h', group, 'p:' .. id)
          return false
        end
        unpark(q, id)
        ready(q, fields, sent, group)
        return true
      end
      unpark(q, id)  -- past retention
    end
  end
end

-- Remove a ready message (deleted, dead-lettered, expired); true if its group's next is ready.
local function remove(q, id, fields, now, delay, cutoff)
  local group = field(fields, GROUP_ID)
  local head = group and redis.call('HGET', q .. 'h', group) == 's:' .. id
  unready(q, {id})
  return head and promote(q, group, now, delay, cutoff) or false
end

-- Drop up to BATCH messages sent at or before cutoff; true if there may be more.
local function sweep(q, now, delay, cutoff)
  local expired = redis.call('ZRANGEBYSCORE', q .. 't', '-inf', cutoff, 'LIMIT', 0, BATCH)
  for _, member in ipairs(expired) do
    if redis.call('ZSCORE', q .. 't', member) then  -- not yet dropped by a promote
      local kind, id = string.sub(member, 1, 1), string.sub(member, 3)
      local entry = redis.call('XRANGE', q .. kind, id, id)[1]
      local group = entry and field(entry[2], GROUP_ID)
      local head = group and redis.call('HGET', q .. 'h', group) == member
      if kind == 's' then
        unready(q, {id})
      else
        unpark(q, id)  -- a message behind its head stays listed; promote skips it
      end
      if head then
        promote(q, group, now, delay, cutoff)
      end
    end
  end
  return #expired == BATCH
end

-- Make up to BATCH delayed messages that are due ready.
local function release(q, now)
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', q .. 'd', '-inf', now, 'LIMIT', 0, BATCH)) do
    local fields = parked(q, id)
    unpark(q, id)
    if fields then
      ready(q, fields, tonumber(field(fields, SENT)), field(fields, GROUP_ID))
    end
  end
end

-- Copy a message to the end of queue 'to', due now and never received there. A dead letter
-- (source given) records its source and receive count; a redrive drops every dlq. attribute.
local function move(fields, to, now, source, count)
  local copy = {}
  for i = 1, #fields, 2 do
    local name = fields[i]
    if string.sub(name, 1, #DLQ_PREFIX) ~= DLQ_PREFIX
        or (source and name ~= DLQ_SOURCE and name ~= DLQ_COUNT) then
      copy[#copy + 1] = name
      copy[#copy + 1] = fields[i + 1]
    end
  end
  if source then
    copy[#copy + 1] = DLQ_SOURCE
    copy[#copy + 1] = source
    copy[#copy + 1] = DLQ_COUNT
    copy[#copy + 1] = tostring(count)
  end
  enqueue(to, copy, tonumber(field(fields, SENT)), now, 0, field(fields, GROUP_ID))
end

local function token_of(receipt)
  return receipt and string.match(receipt, '^%d+ (.+)$')
end
"""

PRELUDE = _CONSTANTS + _FUNCTIONS
