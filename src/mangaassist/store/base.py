"""The store port: what the services need from persistence, whatever the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from mangaassist.domain.batch import BatchItem, BatchRequest, ItemFailure, ItemResult
from mangaassist.domain.catalog import SeriesRecord
from mangaassist.domain.enrichment import EnrichmentDone, SeriesEnrichment
from mangaassist.domain.event_records import ArchivedEvent, ArchiveRow, EndpointHealth, StoredRule
from mangaassist.domain.session import Session, Turn
from mangaassist.domain.webhook import ClaimOutcome

__all__ = [
    "BatchStore",
    "CatalogStore",
    "EnrichmentStore",
    "EventStore",
    "SessionStore",
    "Store",
    "UpsertCounts",
    "WebhookIdempotencyStore",
]


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


class BatchStore(Protocol):
    """Batch analysis requests, their items, results and callback state.

    Writes raise on failure (the job fails loudly and is retried), never return quietly. The
    ``finish_*`` and callback updates are conditional, so a job delivered twice never stores a
    result twice nor counts its usage twice.
    """

    async def create_batch(self, batch: BatchRequest, items: Sequence[BatchItem]) -> None:
        """Record a batch and its items (all ``queued``) in one transaction."""
        ...

    async def get_batch_item(self, request_id: str) -> BatchItem | None:
        """One item with its batch's callback url, or None."""
        ...

    async def mark_enqueued(self, request_ids: Sequence[str], *, now: datetime) -> None:
        """Note that the items' jobs are in their queue (the sweep leaves them alone)."""
        ...

    async def start_batch_item(self, request_id: str, *, now: datetime) -> BatchItem | None:
        """Move a non-final item to ``processing`` and count the attempt; a final item is
        returned unchanged. None when unknown."""
        ...

    async def complete_batch_item(
        self, request_id: str, result: ItemResult, *, now: datetime
    ) -> bool:
        """Store the result and mark the item ``completed``; False when it was already final."""
        ...

    async def fail_batch_item(
        self, request_id: str, failure: ItemFailure, *, now: datetime
    ) -> bool:
        """Mark the item ``failed``; False when it was already final."""
        ...

    async def set_callback_state(
        self,
        request_id: str,
        state: str,
        *,
        now: datetime,
        error: str | None = None,
        attempted: bool = False,
    ) -> None:
        """Record the callback's state (and an attempt, with its error, when ``attempted``)."""
        ...

    async def list_unenqueued(self, created_before: datetime, limit: int) -> list[BatchItem]:
        """``queued`` items created before the time whose job was never confirmed enqueued."""
        ...

    async def list_unsent_callbacks(self, updated_before: datetime, limit: int) -> list[BatchItem]:
        """Final items last updated before the time whose callback is still ``pending``."""
        ...


class EnrichmentStore(Protocol):
    """What models wrote about series (synopsis, tags, recommendations), one per type.

    A write raises on failure, never returns quietly: the design documents' enrichment results
    that "silently fail" to reach the catalog are the failure this port must not allow.
    """

    async def put_enrichment(self, enrichment: SeriesEnrichment) -> int:
        """Insert or replace the series' enrichment of that type and bump the catalog version,
        in one transaction; return the new catalog version."""
        ...

    async def get_enrichment(self, series_id: str) -> list[SeriesEnrichment]:
        """The enrichments of a series, ordered by type (empty when none or unknown)."""
        ...

    async def enrichment_jobs_done(self, job_ids: Sequence[str]) -> list[EnrichmentDone]:
        """The jobs among ``job_ids`` whose enrichment is stored (and still the current one)."""
        ...


class EventStore(Protocol):
    """The event bus's state: rules from the admin API, archives and endpoint health."""

    async def list_event_rules(self) -> list[StoredRule]:
        """Every rule saved through the admin API, by name."""
        ...

    async def put_event_rule(self, name: str, config: dict[str, Any], *, now: datetime) -> bool:
        """Create or replace a rule; True when it was created."""
        ...

    async def delete_event_rule(self, name: str) -> bool:
        """Delete a rule; True when it existed."""
        ...

    async def archive_events(self, rows: Sequence[ArchiveRow]) -> None:
        """Append events to their archives (committed when this returns)."""
        ...

    async def archived_events(
        self, archive: str, start: datetime, end: datetime, *, after_seq: int = 0, limit: int = 500
    ) -> list[ArchivedEvent]:
        """A page of an archive's events with ``start <= time < end``, in archive order."""
        ...

    async def purge_archive(self, now: datetime) -> int:
        """Delete archived events past their retention; return how many."""
        ...

    async def get_endpoint(self, url: str) -> EndpointHealth | None:
        """The health of an outbound webhook endpoint, None when it never failed."""
        ...

    async def list_endpoints(self) -> list[EndpointHealth]:
        """Every endpoint that ever failed."""
        ...

    async def endpoint_failed(
        self, url: str, *, now: datetime, error: str, disable_after: timedelta
    ) -> EndpointHealth:
        """Record a failed delivery; disable the endpoint after ``disable_after`` of failures."""
        ...

    async def endpoint_succeeded(self, url: str) -> None:
        """A delivery went through: the run of failures is over."""
        ...

    async def enable_endpoint(self, url: str) -> bool:
        """Re-enable a disabled endpoint; True when it was disabled."""
        ...


class WebhookIdempotencyStore(Protocol):
    """Idempotency keys of inbound webhooks: each delivery is processed once per key.

    A key is claimed with a lease before processing, then completed with a small result (kept
    ``ttl_s``) or released on failure so the sender's retry can claim it again. Exactly one of
    any number of concurrent claimers wins. Datetimes must be timezone-aware.
    """

    async def claim_webhook(
        self, source: str, key: str, *, now: datetime, lease_s: float, ttl_s: float
    ) -> ClaimOutcome:
        """Claim the key (new, or its lease or retention ended), or say why not: ``completed``
        with the stored result, or ``in_progress`` while another claim's lease runs."""
        ...

    async def complete_webhook(
        self,
        source: str,
        key: str,
        result: dict[str, Any],
        *,
        now: datetime,
        ttl_s: float,
        token: str | None = None,
    ) -> bool:
        """Store the result and keep the key ``ttl_s`` from ``now``; with ``token``, only while
        that claim holds the key. True when it was updated."""
        ...

    async def release_webhook(self, source: str, key: str, *, token: str | None = None) -> bool:
        """Delete an unfinished claim (with ``token``: only that one); True when one existed."""
        ...

    async def purge_webhook_keys(self, before: datetime) -> int:
        """Delete keys whose lease or retention ended before ``before``; return how many."""
        ...


class Store(
    CatalogStore,
    SessionStore,
    BatchStore,
    EnrichmentStore,
    EventStore,
    WebhookIdempotencyStore,
    Protocol,
):
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
