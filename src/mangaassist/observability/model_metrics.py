"""Model metrics: per model call latency, first-token time, errors by kind, breaker state,
retries, fallbacks and sentences dropped for naming products outside the prompt."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from mangaassist.llm.breaker import STATE_VALUES, BreakerState
from mangaassist.observability.metrics import LATENCY_BUCKETS

__all__ = ["ModelMetrics"]


class ModelMetrics:
    """Counters, gauges and histograms of the model router, in the app's registry.

    ``model`` labels are model ids as configured (``anthropic.claude-3-haiku-20240307-v1:0``,
    ``offline``); the fallback share is ``rate(mangaassist_model_fallbacks_total)`` over
    ``rate(mangaassist_model_calls_total)``.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self.calls = Counter(
            "mangaassist_model_calls",
            "Model calls by model and outcome (ok, or the error kind).",
            ["model", "outcome"],
            registry=registry,
        )
        self.latency = Histogram(
            "mangaassist_model_latency_seconds",
            "Time of one model call, from request to its last token or error.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.first_token = Histogram(
            "mangaassist_model_first_token_seconds",
            "Time from request to a model's first token.",
            ["model"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.errors = Counter(
            "mangaassist_model_errors",
            "Failed model calls by kind (throttled, timeout, overloaded, malformed, ...).",
            ["model", "kind"],
            registry=registry,
        )
        self.breaker = Gauge(
            "mangaassist_model_breaker_state",
            "Circuit breaker per model: 0 closed, 1 half-open, 2 open.",
            ["model"],
            registry=registry,
        )
        self.skipped = Counter(
            "mangaassist_model_skipped",
            "Models passed over without a call, by reason (breaker_open, deadline, guard).",
            ["model", "reason"],
            registry=registry,
        )
        self.retries = Counter(
            "mangaassist_model_retries",
            "Second and later calls to the same model for one answer.",
            ["model"],
            registry=registry,
        )
        self.fallbacks = Counter(
            "mangaassist_model_fallbacks",
            "Answers that moved past a model to the next of its chain, by why.",
            ["model", "reason"],
            registry=registry,
        )
        self.ungrounded = Counter(
            "mangaassist_model_ungrounded_sentences",
            "Sentences dropped because they named a product not given to the model.",
            ["model"],
            registry=registry,
        )

    def breaker_changed(self, model: str, state: BreakerState) -> None:
        """Record a breaker's new state."""
        self.breaker.labels(model).set(STATE_VALUES[state])
