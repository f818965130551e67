"""The statements of the SQLite queue, with the rules they encode.

FIFO groups are kept in order by *parking*: only the oldest message of a group (its head) has a
real ``visible_at``; the messages behind it wait with ``visible_at = PARKED``, past any real
time. Receiving is then the same short index range scan for both kinds of queue ("due rows of
queue X"), and a group whose head is in flight or delayed delivers nothing without being
looked at. Whatever removes a head (delete, move to a dead-letter queue, expiry) runs
``PROMOTE`` for its group, which gives the next message its due time.
"""

from __future__ import annotations

__all__ = [
    "ATTRIBUTES",
    "CLAIM",
    "DELETE",
    "DELETE_ROW",
    "DUE_FIFO",
    "DUE_STANDARD",
    "INSERT",
    "PARKED",
    "PROMOTE",
    "REDRIVABLE",
    "SWEEP",
]

#: ``visible_at`` of a FIFO message waiting behind its group's head (no clock reaches it).
PARKED = 1e300

#: The next due messages of a standard queue, in the order they became visible; messages past
#: retention are skipped here and deleted by ``SWEEP`` now and then.
DUE_STANDARD = (
    "SELECT seq, message_id, body, attributes, group_id, dedup_id, sent_at, receive_count"
    " FROM queue_messages"
    " WHERE queue = :queue AND visible_at <= :now AND sent_at > :expired"
    " ORDER BY visible_at, seq LIMIT :limit"
)
#: The due heads of a FIFO queue's groups. Expired heads are returned too: the claim deletes
#: them and promotes the next message, so an expired head never blocks its group.
DUE_FIFO = (
    "SELECT seq, message_id, body, attributes, group_id, dedup_id, sent_at, receive_count"
    " FROM queue_messages"
    " WHERE queue = :queue AND visible_at <= :now"
    " ORDER BY visible_at, seq LIMIT :limit"
)
#: Hide a claimed message until a time, under the token of the receive that claimed it.
CLAIM = (
    "UPDATE queue_messages SET visible_at = ?, receive_count = receive_count + 1, receipt = ?"
    " WHERE seq = ?"
)
INSERT = (
    "INSERT INTO queue_messages"
    " (queue, message_id, body, attributes, group_id, dedup_id, sent_at, visible_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Delete by receipt; the group tells whose next message to promote.
DELETE = "DELETE FROM queue_messages WHERE seq = ? AND queue = ? AND receipt = ? RETURNING group_id"
DELETE_ROW = "DELETE FROM queue_messages WHERE seq = ?"
#: Give a group's oldest message its due time if it is parked (a no-op for a live head).
PROMOTE = (
    "UPDATE queue_messages SET visible_at = max(:now, sent_at + :delay)"
    " WHERE visible_at = :parked AND seq = ("
    "   SELECT min(seq) FROM queue_messages WHERE queue = :queue AND group_id = :group"
    " )"
)
#: Delete messages past retention; the groups tell whose next message to promote.
SWEEP = "DELETE FROM queue_messages WHERE queue = ? AND sent_at <= ? RETURNING group_id"
#: Messages a redrive may move out of a dead-letter queue, oldest first: not in flight, and not
#: of a group whose head is in flight (moving those would overtake it).
REDRIVABLE = (
    "SELECT seq, message_id, body, attributes, group_id, dedup_id, sent_at, receive_count"
    " FROM queue_messages AS m"
    " WHERE m.queue = :queue AND m.sent_at > :expired"
    "   AND (m.visible_at <= :now OR m.visible_at = :parked)"
    "   AND NOT EXISTS ("
    "     SELECT 1 FROM queue_messages AS h WHERE h.queue = :queue AND h.group_id = m.group_id"
    "       AND h.visible_at > :now AND h.visible_at < :parked"
    "   )"
    " ORDER BY m.seq LIMIT :limit"
)
#: Visible (parked messages count: SQS counts messages behind a busy group as visible),
#: in-flight (received: has a receipt) and delayed counts, and the oldest send time.
ATTRIBUTES = (
    "SELECT"
    " coalesce(sum(visible_at <= :now OR visible_at = :parked), 0),"
    " coalesce(sum(visible_at > :now AND visible_at < :parked AND receipt IS NOT NULL), 0),"
    " coalesce(sum(visible_at > :now AND visible_at < :parked AND receipt IS NULL), 0),"
    " min(sent_at)"
    " FROM queue_messages WHERE queue = :queue AND sent_at > :expired"
)
