"""Streaming metrics: connections, frames, time to first delta, resumes and forced closes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["StreamMetrics"]

#: Time-to-first-delta buckets (seconds): the offline responder answers in milliseconds.
FIRST_DELTA_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class StreamMetrics:
    """WebSocket and SSE metrics in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.connections = Gauge(
            "mangaassist_ws_connections",
            "Open WebSocket connections.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.frames = Counter(
            "mangaassist_ws_frames",
            "Client frames received, by action (malformed ones as `malformed`).",
            ["action"],
            registry=registry,
        )
        self.first_delta = Histogram(
            "mangaassist_stream_first_delta_seconds",
            "From the start of generation to its first delta.",
            buckets=FIRST_DELTA_BUCKETS,
            registry=registry,
        )
        self.resumes = Counter(
            "mangaassist_stream_resumes", "Resumed streams.", ["transport"], registry=registry
        )
        self.closes = Counter(
            "mangaassist_ws_closes",
            "Connections the server closed, by reason: idle, slow_reader, too_big.",
            ["reason"],
            registry=registry,
        )
