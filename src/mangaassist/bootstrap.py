"""The one place that turns settings into adapters and hands them out as a ``Container``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from prometheus_client import CollectorRegistry

from mangaassist.access.keyring import KeyRing
from mangaassist.access.setup import AccessSetup, build_access
from mangaassist.analysis.base import Analyzer
from mangaassist.analysis.service import ModelAnalyzer
from mangaassist.api.chat_schemas import render_answer
from mangaassist.cache.base import ResponseCache
from mangaassist.catalog.enrichment import ENRICH_JOB, ENRICH_TIMEOUT_S, EnrichmentHandler
from mangaassist.catalog.service import CatalogService
from mangaassist.chat.service import ChatConfig, ChatService
from mangaassist.domain.cost import Price
from mangaassist.domain.policy import StorePolicy
from mangaassist.domain.routing import ModelTier
from mangaassist.events.analytics import USAGE_FILE, AnalyticsSink, UsageLedger
from mangaassist.events.archive import Archive, Replayer
from mangaassist.events.base import EventBus
from mangaassist.events.builtin_rules import (
    ANALYTICS_HANDLER,
    CACHE_INVALIDATION_HANDLER,
    SEARCH_REINDEX_HANDLER,
    USAGE_HANDLER,
    builtin_rules,
)
from mangaassist.events.delivery import EVENT_DELIVERY_JOB, EventDeliveryJobs
from mangaassist.events.envelope import Event
from mangaassist.events.handlers import EventHandlers
from mangaassist.events.local import LocalEventBus
from mangaassist.events.rulebook import RuleBook, load_rules_file
from mangaassist.events.schemas import SchemaRegistry
from mangaassist.jobs.backlog import BacklogGauge
from mangaassist.jobs.batch import ANALYSIS_JOB, CALLBACK_JOB, BatchConfig, BatchJobs
from mangaassist.jobs.callbacks import CallbackJobs
from mangaassist.jobs.event_jobs import ANALYTICS_FILE, register_event_jobs
from mangaassist.jobs.moderation import CASES_FILE
from mangaassist.llm.offline import OfflineModel
from mangaassist.llm.router import RoutedModel
from mangaassist.llm.setup import ModelSetup, build_models
from mangaassist.observability.access_metrics import AccessMetrics
from mangaassist.observability.chat_metrics import ChatMetrics
from mangaassist.observability.metrics import HttpMetrics
from mangaassist.observability.model_metrics import ModelMetrics
from mangaassist.observability.queue_metrics import QueueMetrics
from mangaassist.observability.stream_metrics import StreamMetrics
from mangaassist.queues.base import QueueBackend, QueueConfig
from mangaassist.queues.factory import open_queues
from mangaassist.queues.topology import ensure_topology, load_topology
from mangaassist.queues.worker import JobRegistry, Worker
from mangaassist.settings import Settings
from mangaassist.store.base import Store
from mangaassist.store.sql import SqlStore
from mangaassist.store.sql_keys import SqlKeyRing
from mangaassist.store.urls import async_url, sqlite_path
from mangaassist.stream.authorizer import Authorizer, FrameLimits
from mangaassist.stream.buffer import DeltaBuffer, MemoryDeltaBuffer
from mangaassist.stream.service import StreamingChat
from mangaassist.text.token_estimate import estimate_tokens
from mangaassist.webhooks.delivery import WebhookClient
from mangaassist.webhooks.inbound import InboundWebhooks
from mangaassist.webhooks.outbound import OutboundWebhooks
from mangaassist.webhooks.registry import build_inbound_webhooks
from mangaassist.webhooks.secret_file import load_or_create_secret

__all__ = ["Container", "build"]


@dataclass
class Container:
    """Every adapter and service of one process; the app and the CLI take what they need."""

    settings: Settings
    store: Store
    cache: ResponseCache
    catalog: CatalogService
    chat: ChatService
    events: EventBus
    #: The rules of the embedded bus (built-in, file, admin API).
    rulebook: RuleBook
    #: In-process targets of event rules, by name.
    event_handlers: EventHandlers
    #: Archive replays; None when EventBridge keeps the archives.
    replayer: Replayer | None
    #: Signed outbound webhooks with the retry schedule and endpoint health.
    outbound: OutboundWebhooks
    metrics: HttpMetrics
    buffer: DeltaBuffer
    streaming: StreamingChat
    stream_metrics: StreamMetrics
    #: Judges WebSocket handshakes (allow-all unless access control is on).
    authorizer: Authorizer
    #: Limits the frames of each WebSocket connection (none unless access control is on).
    frame_limits: FrameLimits
    queues: QueueBackend
    topology: tuple[QueueConfig, ...]
    jobs: JobRegistry
    queue_metrics: QueueMetrics
    #: Model providers, the router and each tier's chain.
    models: ModelSetup
    #: Catalog analysis by the fast-tier model (batch analysis and enrichment jobs).
    analyzer: Analyzer
    #: Batch analysis: submission, its job handler and the sweep.
    batches: BatchJobs
    #: Queue backlogs behind the batch API's backpressure.
    backlog: BacklogGauge
    #: Outbound webhooks through the SSRF guard (callbacks).
    webhooks: WebhookClient
    #: Inbound webhooks: verified, processed once per key, dispatched (POST /webhooks/{source}).
    inbound_webhooks: InboundWebhooks
    #: The ``analytics`` event handler: every event as a line of a JSON Lines file.
    analytics: AnalyticsSink
    #: The ``usage_ledger`` event handler: one line per answer (model, tokens, cost).
    usage: UsageLedger
    #: API keys (prefixes and hashes only): the CLI, the admin API and access control use it.
    keys: KeyRing
    #: Access control: the gate (None when off), its metrics and JWKS/Redis connections.
    access: AccessSetup

    async def start(self) -> None:
        """Bring the store schema and the queues up to date. Safe from several processes."""
        await self.store.migrate()
        await self.models.open()
        await self.access.open()
        await ensure_topology(self.queues, self.topology)
        await self.rulebook.reload()
        await self.events.prepare()

    def worker_queues(self) -> list[str]:
        """The queues a worker takes jobs from: the setting, else every non-DLQ queue."""
        if self.settings.worker_queues:
            return list(self.settings.worker_queues)
        dead_letters = {q.redrive.dead_letter for q in self.topology if q.redrive is not None}
        return [q.name for q in self.topology if q.name not in dead_letters]

    def worker(self, queues: list[str] | None = None, concurrency: int | None = None) -> Worker:
        """A worker running this container's job handlers."""
        return Worker(
            self.queues,
            self.jobs,
            queues or self.worker_queues(),
            concurrency=concurrency or self.settings.worker_concurrency,
            on_outcome=self.queue_metrics.job_outcome,
        )

    async def close(self) -> None:
        """Release connections and wait for background work."""
        await self.catalog.close()
        await self.models.close()
        await self.access.close()
        await self.buffer.close()
        await self.cache.close()
        await self.webhooks.close()
        await self.events.close()
        await self.analytics.close()
        await self.usage.close()
        await self.queues.close()
        await self.store.close()


def build_cache(url: str, namespace: str) -> ResponseCache:
    """The response cache named by ``url`` (``memory://`` or ``redis://``)."""
    if url.startswith(("redis://", "rediss://", "unix://")):
        from mangaassist.cache.redis import RedisResponseCache

        return RedisResponseCache(url, namespace=namespace)
    if url.startswith("memory://"):
        from mangaassist.cache.memory import MemoryResponseCache

        return MemoryResponseCache()
    raise ValueError(f"unsupported MANGAASSIST_CACHE_URL {url!r}: use memory:// or redis://")


def build_buffer(settings: Settings) -> DeltaBuffer:
    """Where streamed answers wait to be resumed: Redis when the cache is Redis (so a client
    may resume on any API process), in-process otherwise."""
    if settings.cache_url.startswith(("redis://", "rediss://", "unix://")):
        from mangaassist.stream.redis_buffer import RedisDeltaBuffer

        return RedisDeltaBuffer(
            settings.cache_url,
            namespace=f"{settings.cache_namespace}:stream",
            window_s=settings.stream_resume_window_s,
        )
    return MemoryDeltaBuffer(window_s=settings.stream_resume_window_s)


def data_folder(settings: Settings) -> Path:
    """Where local data files live unless a setting names them: beside a SQLite store, else
    ``var/`` (queues.db, callback-secret, analytics.jsonl, moderation-cases.jsonl)."""
    store_file = sqlite_path(async_url(settings.store_url))
    return store_file.parent if store_file is not None else Path("var")


def build_queues(settings: Settings) -> QueueBackend:
    """The job queues named by ``MANGAASSIST_QUEUES_URL``."""
    url = settings.queues_url
    if url is None:
        url = f"sqlite:///{data_folder(settings) / 'queues.db'}"
    return open_queues(url, namespace=settings.queues_namespace)


def build_event_bus(
    settings: Settings, store: Store, queues: QueueBackend, rulebook: RuleBook
) -> EventBus:
    """The bus named by ``MANGAASSIST_EVENTS_URL``: embedded unless it names EventBridge."""
    folders = [Path(settings.events_schemas_dir)] if settings.events_schemas_dir else []
    schemas = SchemaRegistry.load(*folders, strict=settings.events_strict_schemas)
    if settings.events_url:
        from mangaassist.events.eventbridge import open_eventbridge

        return open_eventbridge(settings.events_url, schemas, account=None)
    return LocalEventBus(
        schemas,
        queues=queues,
        store=store,
        rules=rulebook.current,
        archives=[Archive.from_config(archive) for archive in settings.events_archives],
        account=settings.events_account,
        region=settings.events_region,
    )


def register_catalog_handlers(
    handlers: EventHandlers, catalog: CatalogService, cache: ResponseCache
) -> None:
    """The targets of the built-in catalog rule: re-index search, drop cached answers."""

    async def search_reindex(event: Event, _: object) -> None:
        await catalog.refresh_if_changed()  # a no-op when the writer already re-indexed

    async def cache_invalidation(event: Event, _: object) -> None:
        detail = event.detail
        ids = [str(i) for i in detail.get("seriesIds", [])]
        if detail.get("productId"):
            ids.append(str(detail["productId"]))
        if ids:
            await cache.invalidate_products(ids)

    handlers.register(SEARCH_REINDEX_HANDLER, search_reindex)
    handlers.register(CACHE_INVALIDATION_HANDLER, cache_invalidation)


def callback_secret(settings: Settings) -> Callable[[], str]:
    """The callback signing secret, read on first use: the setting, else the file beside a
    SQLite store (``var/`` otherwise), created once (``webhooks/secret_file.py``)."""
    if settings.callback_secret is not None:
        configured = settings.callback_secret.get_secret_value()
        return lambda: configured
    folder = data_folder(settings)
    return functools.cache(lambda: load_or_create_secret(folder / "callback-secret"))


def pepper(settings: Settings) -> bytes | None:
    """The API key pepper as bytes, or None."""
    if settings.api_key_pepper is None:
        return None
    return settings.api_key_pepper.get_secret_value().encode()


def build(settings: Settings | None = None) -> Container:
    """Build the container for ``settings`` (the environment's when None)."""
    settings = settings or Settings()
    store = SqlStore(settings.store_url)
    cache = build_cache(settings.cache_url, settings.cache_namespace)
    catalog = CatalogService(store, refresh_s=settings.catalog_refresh_s)
    catalog.on_change(cache.invalidate_products)
    registry = CollectorRegistry()
    queues = build_queues(settings)
    webhooks = WebhookClient(settings.callback_allowed_hosts, timeout_s=settings.callback_timeout_s)
    outbound = OutboundWebhooks(
        webhooks,
        store,
        callback_secret(settings),
        schedule=settings.webhook_retry_schedule_s,
        disable_after=timedelta(seconds=settings.webhook_disable_after_s),
    )
    handlers = EventHandlers()
    rulebook = RuleBook(
        store,
        builtin=builtin_rules(),
        configured=load_rules_file(Path(settings.events_rules_file))
        if settings.events_rules_file
        else (),
        handler_names=handlers.names,
    )
    events = build_event_bus(settings, store, queues, rulebook)
    policy = StorePolicy(
        shipping_fee_jpy=settings.shipping_fee_jpy,
        free_shipping_from_jpy=settings.free_shipping_from_jpy,
        delivery_days=settings.delivery_days,
        return_days=settings.return_days,
        payment_methods=tuple(settings.payment_methods),
    )
    offline = OfflineModel(policy, estimate_tokens, settings.offline_delta_delay_ms / 1000)
    models = build_models(settings, offline, estimate_tokens, ModelMetrics(registry))
    chat = ChatService(
        store=store,
        catalog=catalog,
        cache=cache,
        router=models.router,
        chains=models.chains,
        guards=settings.cost_guards,
        prices={model: Price(*price) for model, price in settings.model_prices.items()},
        policy=policy,
        publisher=events,
        metrics=ChatMetrics(registry),
        config=ChatConfig(
            deadline_s=settings.chat_deadline_s,
            max_graphemes=settings.max_message_graphemes,
            max_bytes=settings.max_message_bytes,
            history_budget_tokens=settings.history_budget_tokens,
            session_idle=timedelta(minutes=settings.session_idle_minutes),
            cache_ttl_s=settings.cache_ttl_s,
            max_output_tokens=settings.max_output_tokens,
        ),
    )
    buffer = build_buffer(settings)
    stream_metrics = StreamMetrics(registry)
    topology_file = settings.queues_topology_file
    jobs = JobRegistry()
    analyzer = ModelAnalyzer(
        catalog,
        RoutedModel(
            models.router, models.chains[ModelTier.FAST], settings.batch_analysis_timeout_s
        ),
        {model: Price(*price) for model, price in settings.model_prices.items()},
    )
    jobs.register(
        ENRICH_JOB,
        EnrichmentHandler(analyzer, store, catalog, events),
        timeout_s=ENRICH_TIMEOUT_S,
    )
    register_catalog_handlers(handlers, catalog, cache)
    deliveries = EventDeliveryJobs(handlers, outbound)
    jobs.register(EVENT_DELIVERY_JOB, deliveries.handle, timeout_s=settings.callback_timeout_s + 30)
    batches = BatchJobs(
        store,
        queues,
        analyzer,
        BatchConfig(
            analysis_timeout_s=settings.batch_analysis_timeout_s,
            requeue_after_s=settings.batch_requeue_after_s,
        ),
    )
    # The job timeout leaves the analysis its own budget plus time for the store writes.
    jobs.register(ANALYSIS_JOB, batches.handle, timeout_s=settings.batch_analysis_timeout_s + 30)
    callbacks = CallbackJobs(store, queues, outbound)
    jobs.register(CALLBACK_JOB, callbacks.handle, timeout_s=settings.callback_timeout_s + 30)
    folder = data_folder(settings)
    analytics_path = settings.events_analytics_path
    event_jobs = register_event_jobs(
        jobs,
        bus=events,
        catalog=catalog,
        analytics_path=Path(analytics_path) if analytics_path else folder / ANALYTICS_FILE,
        cases_path=folder / CASES_FILE,
    )
    handlers.register(ANALYTICS_HANDLER, event_jobs.analytics.handle)
    usage = UsageLedger(folder / USAGE_FILE)
    handlers.register(USAGE_HANDLER, usage.handle)
    key_pepper = pepper(settings)
    keys = SqlKeyRing(store, pepper=key_pepper)
    access = build_access(settings, keys, key_pepper, AccessMetrics(registry))
    return Container(
        queues=queues,
        batches=batches,
        backlog=BacklogGauge(queues, settings.batch_max_backlog),
        webhooks=webhooks,
        topology=load_topology(Path(topology_file) if topology_file else None),
        jobs=jobs,
        models=models,
        analyzer=analyzer,
        queue_metrics=QueueMetrics(registry),
        buffer=buffer,
        streaming=StreamingChat(chat, buffer, render_answer, stream_metrics),
        stream_metrics=stream_metrics,
        authorizer=access.authorizer,
        frame_limits=access.frame_limits,
        access=access,
        settings=settings,
        store=store,
        cache=cache,
        catalog=catalog,
        chat=chat,
        events=events,
        rulebook=rulebook,
        event_handlers=handlers,
        replayer=Replayer(store, events) if isinstance(events, LocalEventBus) else None,
        outbound=outbound,
        inbound_webhooks=build_inbound_webhooks(settings, store, catalog, events),
        metrics=HttpMetrics(registry),
        analytics=event_jobs.analytics,
        usage=usage,
        keys=keys,
    )
