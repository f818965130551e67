"""The store port: what the services need from persistence, whatever the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from mangaassist.domain.catalog import SeriesRecord

__all__ = ["CatalogStore", "Store", "UpsertCounts"]


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """What an upsert did: new series, changed series and series already up to date."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.inserted + other.inserted,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
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


class Store(CatalogStore, Protocol):
    """The whole store port: catalog plus lifecycle."""

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
