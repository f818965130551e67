"""The store port: what the services need from persistence, whatever the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.session import Session, Turn

__all__ = ["CatalogStore", "SessionStore", "Store", "UpsertCounts"]


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an upsert did: new series, changed series and series already up to date."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Ids of the series inserted or updated (what caches must forget).
    changed_ids: tuple[str, ...] = ()

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
            self.changed_ids + other.changed_ids,
        )

    @property
    def changed(self) -> int:
        """Series inserted or updated."""
        return self.inserted + self.updated


class CatalogStore(Protocol):
    """Series records and the catalog version that changes whenever any record does."""

    async def upsert_series(
        self,
        records: Sequence[SeriesRecord],
        on_batch: Callable[[int], None] | None = None,
    ) -> UpsertCounts:
        """Insert or update records by id in one transaction; bump the version if any changed.

        ``on_batch`` is called with the size of each batch written, for progress display; the
        transaction commits only after the last batch, so a failure leaves the catalog as it was.
        """
        ...

    async def get_series(self, series_id: str) -> SeriesRecord | None:
        """One series by id, or None."""
        ...

    async def get_series_many(self, series_ids: Sequence[str]) -> dict[str, SeriesRecord]:
        """The series that exist among ``series_ids``, by id, read now (fresh stock and price)."""
        ...

    async def list_series(self) -> list[SeriesRecord]:
        """Every series, ordered by id."""
        ...

    async def count_series(self) -> int:
        """How many series the catalog holds."""
        ...

    async def delete_series(self, series_ids: Sequence[str]) -> int:
        """Delete series by id; return how many existed. Bumps the version if any did."""
        ...

    async def catalog_version(self) -> int:
        """A number that grows whenever the catalog changes (0 for a never-loaded catalog)."""
        ...


class SessionStore(Protocol):
    """Chat sessions and their turns, kept across requests and processes.

    The store keeps what it is given; expiry (how long a session may idle) is the caller's policy:
    read a session, check ``Session.is_expired``, and purge idle ones with ``purge_sessions``.
    Datetimes must be timezone-aware; they come back in UTC (equal to what was stored).
    """

    async def append_turns(self, session_id: str, turns: Sequence[Turn], *, now: datetime) -> None:
        """Append ``turns`` to a session, creating it (``created_at = now``) when missing.

        Turns get the next sequence numbers in the order given, and ``last_active_at`` becomes
        ``now``, all in one transaction. Two requests appending to the same session at once are
        serialized: no turn is lost and no sequence number is used twice. An empty ``turns``
        only creates or touches the session. Raises ``ValueError`` for an empty session id or
        one longer than 64 characters, and for naive datetimes.
        """
        ...

    async def get_session(self, session_id: str, *, max_turns: int | None = None) -> Session | None:
        """The stored session, or None when unknown; turns are in sequence order.

        With ``max_turns`` = n, the turns are the first turn of the session followed by its last
        n turns (in order, the first never twice): at most n + 1 turns, all of them when the
        session has no more than n + 1. The first turn is always kept because it usually states
        what the customer is looking for, which the history budget must not drop. ``max_turns``
        = 0 returns only the first turn; a negative value raises ``ValueError``.
        """
        ...

    async def delete_session(self, session_id: str) -> bool:
        """Delete a session and its turns; True if it existed."""
        ...

    async def purge_sessions(self, idle_before: datetime) -> int:
        """Delete sessions last active strictly before ``idle_before``; return how many."""
        ...


class Store(CatalogStore, SessionStore, Protocol):
    """The whole store port: catalog, chat sessions and lifecycle."""

    @property
    def backend(self) -> str:
        """Short backend name for readiness and logs (``sqlite``, ``postgresql``)."""
        ...

    async def migrate(self) -> int:
        """Bring the schema to the newest version; return that version."""
        ...

    async def schema_version(self) -> int:
        """The schema version the database is at (0 before any migration)."""
        ...

    async def ping(self) -> None:
        """Raise if the database cannot be reached."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...
