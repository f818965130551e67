"""Event bus benchmark: events matched, and events published, against 100 rules in-process.

Run with ``python -m bench.events [--events N]``.

The 100 rules are a realistic mix: exact source and detail-type, prefixes, numeric ranges,
anything-but, wildcards, exists, equals-ignore-case, cidr and ``$or``, over ten sources; the
events are the product's own (answers, payments, reviews, catalog changes, chat messages) and
partner events, about half matching at least one rule.

- **match**: ``RuleSet.matching`` alone (compiled patterns, source index), one thread;
- **publish**: ``LocalEventBus.publish`` in PutEvents of 10 on SQLite (the embedded default):
  schema check, matching, the archive row and one durable queue message per matched target,
  committed before the call returns.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import random
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.results import record_section
from mangaassist.events.archive import DEFAULT_ARCHIVES, Archive
from mangaassist.events.envelope import Event
from mangaassist.events.local import LocalEventBus
from mangaassist.events.rules import Rule, rule_from_config
from mangaassist.events.ruleset import RuleSet
from mangaassist.events.schemas import SchemaRegistry
from mangaassist.observability.logging import configure_logging
from mangaassist.queues.factory import open_queues
from mangaassist.queues.topology import DEFAULT_TOPOLOGY, ensure_topology
from mangaassist.store.sql import SqlStore

SOURCES = [
    "mangaassist.ai", "mangaassist.chat", "mangaassist.catalog", "mangaassist.payments",
    "mangaassist.reviews", "partner.kodansha", "partner.shueisha", "partner.logistics",
    "partner.crm", "partner.ads",
]  # fmt: skip


def _pattern(i: int) -> dict[str, Any]:
    source = SOURCES[i % len(SOURCES)]
    shapes: list[dict[str, Any]] = [
        {
            "source": [source],
            "detail-type": ["InferenceCompleted"],
            "detail": {"status": ["success"]},
        },
        {
            "source": [source],
            "detail": {"amount": [{"numeric": [">", 1000 * (i % 7), "<=", 50000]}]},
        },
        {"source": [{"prefix": source.split(".")[0] + "."}], "detail-type": [f"Type{i}"]},
        {
            "source": [source],
            "detail": {"rating": [{"anything-but": [1, 2]}], "productId": [{"prefix": "MNG-"}]},
        },
        {
            "source": [source],
            "detail-type": [{"wildcard": "CatalogUpdate.*"}],
            "detail": {"updateType": ["price_change"]},
        },
        {
            "source": [source],
            "detail": {
                "customerEmail": [{"suffix": ".jp"}],
                "currency": [{"equals-ignore-case": "jpy"}],
            },
        },
        {"source": [source], "detail": {"language": ["ja"], "length": [{"numeric": [">=", 10]}]}},
        {"source": [source], "detail": {"ip": [{"cidr": "10.0.0.0/8"}]}},
        {
            "source": [source],
            "$or": [
                {"detail": {"severity": ["high"]}},
                {"detail": {"score": [{"numeric": ["<", -0.5]}]}},
            ],
        },
        {
            "source": [source],
            "detail": {"promo": [{"exists": False}], "orderId": [{"exists": True}]},
        },
    ]
    return shapes[i % len(shapes)]


def rules(count: int = 100) -> list[Rule]:
    """``count`` rules of the mix, each with one handler target."""
    return [
        rule_from_config(
            {
                "name": f"bench-{i:03d}",
                "eventPattern": _pattern(i),
                "targets": [{"id": "t", "handler": "bench"}],
            }
        )
        for i in range(count)
    ]


def events(count: int, seed: int = 7) -> list[Event]:
    """A mix of the product's events and partner events."""
    rng = random.Random(seed)
    made: list[Event] = []
    for n in range(count):
        source = rng.choice(SOURCES)
        kind = n % 5
        if kind == 0:
            detail: dict[str, Any] = {
                "requestId": f"r{n}",
                "model": "anthropic.claude-3-haiku-20240307-v1:0",
                "status": rng.choice(["success", "degraded"]),
                "inputTokens": rng.randint(100, 4000),
                "outputTokens": rng.randint(10, 500),
                "costUsd": 0.0004,
                "latencyMs": 850,
            }
            made.append(Event("InferenceCompleted", detail, source=source))
        elif kind == 1:
            detail = {
                "orderId": f"o{n}",
                "amount": rng.randint(300, 60000),
                "currency": "JPY",
                "customerEmail": rng.choice(["a@example.jp", "b@example.com"]),
                "items": [],
            }
            made.append(Event("PaymentCompleted", detail, source=source))
        elif kind == 2:
            detail = {
                "reviewId": f"rv{n}",
                "productId": f"MNG-{n:08d}",
                "rating": rng.randint(1, 5),
                "reviewText": "最高に面白い！続きが楽しみです。",
            }
            made.append(Event("ReviewSubmitted", detail, source=source))
        elif kind == 3:
            update = rng.choice(["price_change", "new_release", "discontinued"])
            detail = {"productId": f"MNG-{n:08d}", "updateType": update, "data": {"priceJpy": 550}}
            made.append(Event(f"CatalogUpdate.{update}", detail, source=source))
        else:
            detail = {"sessionId": f"s{n}", "language": "ja", "length": rng.randint(1, 200)}
            made.append(Event("ChatMessageReceived", detail, source=source))
    return made


def bench_match(ruleset: RuleSet, batch: list[Event]) -> tuple[float, float]:
    """Events matched per second, and the mean number of rules each matched."""
    dicts = [event.to_dict() for event in batch]
    started = time.perf_counter()
    matched = sum(len(ruleset.matching(d)) for d in dicts)
    elapsed = time.perf_counter() - started
    return len(dicts) / elapsed, matched / len(dicts)


async def bench_publish(
    ruleset: RuleSet, batch: list[Event], home: Path, publishers: int
) -> tuple[float, int]:
    """Events published per second on SQLite by ``publishers`` concurrent callers (API
    requests publish concurrently), and the queue messages they made."""
    store = SqlStore(f"sqlite:///{home / 'store.db'}")
    await store.migrate()
    queues = open_queues(f"sqlite:///{home / 'queues.db'}")
    await ensure_topology(queues, DEFAULT_TOPOLOGY)
    bus = LocalEventBus(
        SchemaRegistry(),  # the bench's partner events have no schemas: measure the bus
        queues=queues,
        store=store,
        rules=lambda: ruleset,
        archives=[Archive.from_config(a) for a in DEFAULT_ARCHIVES],
    )
    chunks = [batch[first : first + 10] for first in range(0, len(batch), 10)]

    async def producer(mine: list[list[Event]]) -> None:
        for chunk in mine:
            await bus.publish(*chunk)

    started = time.perf_counter()
    await asyncio.gather(*(producer(chunks[p::publishers]) for p in range(publishers)))
    elapsed = time.perf_counter() - started
    messages = (await queues.attributes("manga-deliveries")).visible
    await queues.close()
    await store.close()
    return len(batch) / elapsed, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000, help="Events matched.")
    parser.add_argument("--published", type=int, default=5_000, help="Events published.")
    parser.add_argument("--publishers", type=int, default=8, help="Concurrent publishers.")
    args = parser.parse_args()
    configure_logging("warning", "console")
    ruleset = RuleSet(rules(100))
    match_rate, per_event = bench_match(ruleset, events(args.events))
    with tempfile.TemporaryDirectory() as home:
        publish_rate, messages = asyncio.run(
            bench_publish(ruleset, events(args.published, seed=11), Path(home), args.publishers)
        )
    today = datetime.now(UTC).date().isoformat()
    command = (
        f"python -m bench.events --events {args.events} --published {args.published} "
        f"--publishers {args.publishers}"
    )
    match_row = (
        f"| match (RuleSet.matching) | {args.events:,} | {match_rate:,.0f} | "
        f"{per_event:.2f} rules matched per event |"
    )
    publish_row = (
        f"| publish (LocalEventBus, SQLite) | {args.published:,} | {publish_rate:,.0f} | "
        f"{args.publishers} publishers, PutEvents of 10; archive + {messages:,} durable "
        "delivery messages |"
    )
    section = "\n".join(
        [
            f"## Event bus, 100 rules in-process ({today})",
            "",
            f"Command: `{command}`  ",
            f"Machine: {platform.machine()}, 2 cores, Python {platform.python_version()}",
            "",
            "| run | events | events/s | notes |",
            "|---|---|---|---|",
            match_row,
            publish_row,
            "",
            "Target: at least 5,000 events/s published and matched in-process.",
        ]
    )
    record_section("Event bus", section)
    print(section)


if __name__ == "__main__":
    main()
