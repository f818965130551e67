"""Event bus tables of the SQL store: functions of a synchronous Core connection."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from mangaassist.domain.event_records import ArchivedEvent, ArchiveRow, EndpointHealth, StoredRule
from mangaassist.store.schema import event_archive, event_rules, webhook_endpoints

__all__ = [
    "archive_events",
    "archived_events",
    "delete_event_rule",
    "enable_endpoint",
    "endpoint_failed",
    "endpoint_succeeded",
    "get_endpoint",
    "list_endpoints",
    "list_event_rules",
    "purge_archive",
    "put_event_rule",
]


def list_event_rules(conn: Connection) -> list[StoredRule]:
    """Every stored rule, by name."""
    rows = conn.execute(select(event_rules).order_by(event_rules.c.name)).mappings()
    return [StoredRule(row["name"], dict(row["config"]), row["updated_at"]) for row in rows]


def put_event_rule(conn: Connection, name: str, config: dict[str, Any], now: datetime) -> bool:
    """Create or replace a rule; True when it was created."""
    values = {"config": config, "updated_at": now}
    changed = conn.execute(update(event_rules).where(event_rules.c.name == name).values(values))
    if changed.rowcount:
        return False
    conn.execute(insert(event_rules).values(name=name, **values))
    return True


def delete_event_rule(conn: Connection, name: str) -> bool:
    """Delete a rule; True when it existed."""
    return bool(conn.execute(delete(event_rules).where(event_rules.c.name == name)).rowcount)


def archive_events(conn: Connection, rows: Sequence[ArchiveRow]) -> None:
    """Append events to their archives."""
    if rows:
        conn.execute(
            insert(event_archive),
            [{name: getattr(row, name) for name in ArchiveRow.__slots__} for row in rows],
        )


def archived_events(
    conn: Connection,
    archive: str,
    start: datetime,
    end: datetime,
    *,
    after_seq: int = 0,
    limit: int = 500,
) -> list[ArchivedEvent]:
    """A page of an archive's events with ``start <= time < end``, in archive order."""
    t = event_archive.c
    rows = conn.execute(
        select(t.seq, t.event_time, t.body)
        .where(t.archive == archive, t.event_time >= start, t.event_time < end, t.seq > after_seq)
        .order_by(t.seq)
        .limit(limit)
    ).all()
    return [ArchivedEvent(*row) for row in rows]


def purge_archive(conn: Connection, now: datetime) -> int:
    """Delete archived events past their retention; return how many."""
    return conn.execute(delete(event_archive).where(event_archive.c.expires_at <= now)).rowcount


def _health(row: Any) -> EndpointHealth:
    return EndpointHealth(**dict(row))


def get_endpoint(conn: Connection, url: str) -> EndpointHealth | None:
    """The health of one endpoint, None when it never failed."""
    row = conn.execute(select(webhook_endpoints).where(webhook_endpoints.c.url == url)).mappings()
    found = row.first()
    return None if found is None else _health(found)


def list_endpoints(conn: Connection) -> list[EndpointHealth]:
    """Every endpoint that ever failed, by URL."""
    rows = conn.execute(select(webhook_endpoints).order_by(webhook_endpoints.c.url)).mappings()
    return [_health(row) for row in rows]


def endpoint_failed(
    conn: Connection, url: str, *, now: datetime, error: str, disable_after: timedelta
) -> EndpointHealth:
    """Record a failed delivery; disable the endpoint once it has failed for ``disable_after``."""
    current = get_endpoint(conn, url)
    if current is None:
        conn.execute(
            insert(webhook_endpoints).values(
                url=url, failing_since=now, last_failure_at=now, last_error=error, failures=1
            )
        )
        current = EndpointHealth(url, now, now, error, 1, None)
    else:
        since = current.failing_since or now
        disabled_at = current.disabled_at
        if disabled_at is None and now - since >= disable_after:
            disabled_at = now
        current = EndpointHealth(url, since, now, error, current.failures + 1, disabled_at)
        conn.execute(
            update(webhook_endpoints)
            .where(webhook_endpoints.c.url == url)
            .values(
                failing_since=since,
                last_failure_at=now,
                last_error=error,
                failures=current.failures,
                disabled_at=disabled_at,
            )
        )
    return current


def endpoint_succeeded(conn: Connection, url: str) -> None:
    """A delivery went through: the run of failures is over."""
    conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.url == url, webhook_endpoints.c.failing_since.is_not(None))
        .values(failing_since=None, failures=0)
    )


def enable_endpoint(conn: Connection, url: str) -> bool:
    """Re-enable a disabled endpoint (an operator fixed it); True when it was disabled."""
    changed = conn.execute(
        update(webhook_endpoints)
        .where(webhook_endpoints.c.url == url, webhook_endpoints.c.disabled_at.is_not(None))
        .values(disabled_at=None, failing_since=None, failures=0)
    )
    return bool(changed.rowcount)
