"""The one place that turns settings into adapters and hands them out as a ``Container``."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from mangaassist.catalog.service import CatalogService
from mangaassist.observability.metrics import HttpMetrics
from mangaassist.settings import Settings
from mangaassist.store.base import Store
from mangaassist.store.sql import SqlStore

__all__ = ["Container", "build"]


@dataclass
class Container:
    """Every adapter and service of one process; the app and the CLI take what they need."""

    settings: Settings
    store: Store
    catalog: CatalogService
    metrics: HttpMetrics

    async def start(self) -> None:
        """Bring the store schema up to date. Safe to run from several processes at once."""
        await self.store.migrate()

    async def close(self) -> None:
        """Release connections and wait for background work."""
        await self.catalog.close()
        await self.store.close()


def build(settings: Settings | None = None) -> Container:
    """Build the container for ``settings`` (the environment's when None)."""
    settings = settings or Settings()
    store = SqlStore(settings.store_url)
    return Container(
        settings=settings,
        store=store,
        catalog=CatalogService(store, refresh_s=settings.catalog_refresh_s),
        metrics=HttpMetrics(CollectorRegistry()),
    )
