"""The rules every MangaAssist bus starts with, mirroring the design documents' EventBridge stack.

Each can be replaced or disabled by a rule of the same name in the rules file or through the
admin API (``"state": "DISABLED"``).
"""

from __future__ import annotations

from typing import Any

from mangaassist.events.rules import Rule, rule_from_config

__all__ = [
    "ANALYTICS_HANDLER",
    "BUILTIN_RULE_CONFIGS",
    "CACHE_INVALIDATION_HANDLER",
    "MODERATION_QUEUE",
    "SEARCH_REINDEX_HANDLER",
    "USAGE_HANDLER",
    "builtin_rules",
]

ANALYTICS_HANDLER = "analytics"
USAGE_HANDLER = "usage_ledger"
SEARCH_REINDEX_HANDLER = "search_reindex"
CACHE_INVALIDATION_HANDLER = "cache_invalidation"
MODERATION_QUEUE = "manga-moderation"
_JOBS_QUEUE = "manga-fm-normal"

#: One compact usage line per answer: what the cost report sums.
_USAGE_RECORD: dict[str, Any] = {
    "inputTransformer": {
        "inputPathsMap": {
            "time": "$.time",
            "requestId": "$.detail.requestId",
            "model": "$.detail.model",
            "status": "$.detail.status",
            "inputTokens": "$.detail.inputTokens",
            "outputTokens": "$.detail.outputTokens",
            "costUsd": "$.detail.costUsd",
            "latencyMs": "$.detail.latencyMs",
        },
        "inputTemplate": (
            '{"time": <time>, "requestId": <requestId>, "model": <model>, "status": <status>, '
            '"inputTokens": <inputTokens>, "outputTokens": <outputTokens>, '
            '"costUsd": <costUsd>, "latencyMs": <latencyMs>}'
        ),
    }
}

BUILTIN_RULE_CONFIGS: tuple[dict[str, Any], ...] = (
    {
        "name": "mangaassist-inference-completed",
        "description": "Completed answers to the usage ledger (model, tokens, cost, latency)",
        "eventPattern": {
            "source": ["mangaassist.ai"],
            "detail-type": ["InferenceCompleted"],
            "detail": {"status": ["success", "degraded"]},
        },
        "targets": [{"id": "usage", "handler": USAGE_HANDLER, **_USAGE_RECORD}],
    },
    {
        "name": "mangaassist-moderation-flagged",
        "description": "High and critical moderation flags to the moderators' queue",
        "eventPattern": {
            "source": ["mangaassist.ai"],
            "detail-type": ["ModerationFlagged"],
            "detail": {"severity": ["high", "critical"]},
        },
        "targets": [{"id": "moderators", "queue": MODERATION_QUEUE, "jobKind": "moderation_case"}],
    },
    {
        "name": "mangaassist-catalog-update",
        "description": "Catalog changes re-index search and drop cached answers naming the items",
        "eventPattern": {
            "source": ["mangaassist.catalog"],
            "detail-type": [{"prefix": "CatalogUpdate."}],
        },
        "targets": [
            {"id": "reindex", "handler": SEARCH_REINDEX_HANDLER},
            {"id": "invalidate", "handler": CACHE_INVALIDATION_HANDLER},
        ],
    },
    {
        "name": "mangaassist-payment-completed",
        "description": "A completed payment gets an order confirmation",
        "eventPattern": {"source": ["mangaassist.payments"], "detail-type": ["PaymentCompleted"]},
        "targets": [{"id": "confirm", "queue": _JOBS_QUEUE, "jobKind": "order_confirmation"}],
    },
    {
        "name": "mangaassist-review-submitted",
        "description": "A new review is moderated and its sentiment analysed",
        "eventPattern": {"source": ["mangaassist.reviews"], "detail-type": ["ReviewSubmitted"]},
        "targets": [
            {"id": "moderation", "queue": _JOBS_QUEUE, "jobKind": "review_moderation"},
            {"id": "sentiment", "queue": _JOBS_QUEUE, "jobKind": "review_sentiment"},
        ],
    },
    {
        "name": "mangaassist-all-events-analytics",
        "description": "Every MangaAssist event to the analytics sink",
        "eventPattern": {"source": [{"prefix": "mangaassist."}]},
        "targets": [{"id": "analytics", "handler": ANALYTICS_HANDLER}],
    },
)


def builtin_rules() -> list[Rule]:
    """The built-in rules, parsed and checked like any other."""
    return [rule_from_config(config, origin="builtin") for config in BUILTIN_RULE_CONFIGS]
