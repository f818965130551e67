"""Access-control metrics: verdicts by caller kind and outcome, and rate-limit storage errors."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

__all__ = ["AccessMetrics"]


class AccessMetrics:
    """Counters of the access gate in the app's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.verdicts = Counter(
            "mangaassist_access_verdicts",
            "Requests and handshakes judged by access control, by caller kind (`anonymous`, "
            "`api_key`, `token`, `unknown` when refused before identification) and outcome "
            "(`admitted` or the error code).",
            ["kind", "outcome"],
            registry=registry,
        )
        self.storage_errors = Counter(
            "mangaassist_access_storage_errors",
            "Rate-limit checks that could not reach their storage (let through when failing open).",
            registry=registry,
        )
