"""Chat metrics: answer latency by model and cache, tokens, cost, cache results, degradations."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

from mangaassist.observability.metrics import LATENCY_BUCKETS

__all__ = ["ChatMetrics"]


class ChatMetrics:
    """Counters and histograms of the chat pipeline, in the app's registry.

    The cache hit ratio is ``rate(mangaassist_chat_cache_total{result="hit"})`` over the sum of
    all results.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.latency = Histogram(
            "mangaassist_chat_latency_seconds",
            "Time to a complete chat answer.",
            ["model", "cached"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.tokens = Counter(
            "mangaassist_chat_tokens",
            "Model tokens by model and direction (input, output).",
            ["model", "direction"],
            registry=registry,
        )
        self.cost = Counter(
            "mangaassist_chat_cost_usd", "Model cost in US dollars.", ["model"], registry=registry
        )
        self.cache = Counter(
            "mangaassist_chat_cache",
            "Response cache lookups by result: hit, miss, bypass (session-dependent message).",
            ["result"],
            registry=registry,
        )
        self.degraded = Counter(
            "mangaassist_chat_degraded",
            "Answers given from the catalog alone because the model could not answer in time.",
            ["reason"],
            registry=registry,
        )
        self.intents = Counter(
            "mangaassist_chat_intents",
            "Messages by detected intent.",
            ["intent"],
            registry=registry,
        )

    def observe(
        self,
        *,
        model: str,
        cached: bool,
        seconds: float,
        input_tokens: int,
        output_tokens: int,
        cost_usd: float,
        intent: str,
    ) -> None:
        """Record one answered message."""
        self.latency.labels(model, str(cached).lower()).observe(seconds)
        self.intents.labels(intent).inc()
        if not cached:
            self.tokens.labels(model, "input").inc(input_tokens)
            self.tokens.labels(model, "output").inc(output_tokens)
            self.cost.labels(model).inc(cost_usd)
