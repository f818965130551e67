"""Search benchmark: a 100k-series generated catalog, latency in process and over HTTP.

Run with ``make bench`` (or ``python -m bench.search --count 100000``). Results are printed and
written to ``bench/RESULTS.md``. HTTP traffic goes only to a server this script starts on
127.0.0.1, and every loop is bounded in count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from bench.results import record_section
from bench.server import running_server
from mangaassist.catalog.generate import generate_records
from mangaassist.catalog.index import SearchFilters, SearchIndex
from mangaassist.domain.catalog import Genre, SeriesRecord
from mangaassist.store.sql import SqlStore


@dataclass
class Timing:
    """Latency percentiles and throughput of one run."""

    label: str
    samples_ms: list[float]
    wall_s: float

    def row(self) -> str:
        ordered = sorted(self.samples_ms)

        def pct(p: float) -> float:
            return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

        return (
            f"| {self.label} | {len(ordered)} | {statistics.median(ordered):.2f} | "
            f"{pct(90):.2f} | {pct(99):.2f} | {ordered[-1]:.2f} | "
            f"{len(ordered) / self.wall_s:,.0f} |"
        )


def _queries(
    records: Sequence[SeriesRecord], count: int, seed: int
) -> list[tuple[str, SearchFilters]]:
    """A realistic mix: title fragments in every script, romaji, English, authors, typos."""
    rng = random.Random(seed)
    out: list[tuple[str, SearchFilters]] = []
    while len(out) < count:
        r = rng.choice(records)
        kind = rng.randrange(8)
        if kind == 0:
            start = rng.randrange(max(1, len(r.title_ja) - 2))
            query = r.title_ja[start : start + rng.randint(2, 4)]
        elif kind == 1:
            query = r.title_kana[: rng.randint(3, 8)]
        elif kind == 2:
            query = " ".join(r.title_romaji.split()[:2])
        elif kind == 3:
            query = r.title
        elif kind == 4:
            query = rng.choice([r.author, r.author_ja, r.author_romaji])
        elif kind == 5:
            word = max(r.title.split(), key=len).lower()
            i = rng.randrange(len(word) - 1) if len(word) > 4 else 0
            query = word[:i] + word[i + 1] + word[i] + word[i + 2 :]  # one transposition
        elif kind == 6:
            query = rng.choice(
                ["異世界", "ホラー", "恋愛", "スポーツ", "泣ける", "romance", "magic"]
            )
        else:
            query = r.title_ja
        filters = SearchFilters()
        if rng.random() < 0.25:
            filters = SearchFilters(
                genre=rng.choice(list(Genre)), in_stock=rng.choice([True, None])
            )
        out.append((query, filters))
    return out


def bench_in_process(index: SearchIndex, queries: list[tuple[str, SearchFilters]]) -> Timing:
    for query, filters in queries[:50]:  # warm caches
        index.search(query, filters)
    samples: list[float] = []
    started = time.perf_counter()
    for query, filters in queries:
        t0 = time.perf_counter()
        index.search(query, filters, limit=10)
        samples.append((time.perf_counter() - t0) * 1000)
    return Timing("in-process, 1 thread", samples, time.perf_counter() - started)


def _body(query: str, filters: SearchFilters) -> dict[str, Any]:
    body: dict[str, Any] = {"query": query, "limit": 10}
    if filters.genre is not None:
        body["genre"] = filters.genre.value
    if filters.in_stock is not None:
        body["inStock"] = filters.in_stock
    return body


async def _http_run(
    base_url: str, queries: list[tuple[str, SearchFilters]], concurrency: int
) -> Timing:
    samples: list[float] = []
    pending = iter(queries)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            for query, filters in pending:
                t0 = time.perf_counter()
                response = await client.post("/v1/search", json=_body(query, filters))
                response.raise_for_status()
                samples.append((time.perf_counter() - t0) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return Timing(f"HTTP, 1 worker process, {concurrency} concurrent clients", samples, wall)


async def _load_store(url: str, records: list[SeriesRecord]) -> None:
    store = SqlStore(url)
    await store.migrate()
    await store.upsert_series(records)
    await store.close()


def bench_http(
    records: list[SeriesRecord], queries: list[tuple[str, SearchFilters]]
) -> list[Timing]:
    with tempfile.TemporaryDirectory(prefix="mangaassist-bench-") as home:
        url = f"sqlite:///{home}/bench.db"
        asyncio.run(_load_store(url, records))
        with running_server(url) as base:
            asyncio.run(_http_run(base, queries[:100], 4))  # warm-up
            return [asyncio.run(_http_run(base, queries, c)) for c in (1, 8)]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000, help="generated series")
    parser.add_argument("--queries", type=int, default=3000, help="queries per run")
    parser.add_argument("--http-queries", type=int, default=2000, help="requests per HTTP run")
    parser.add_argument("--no-http", action="store_true", help="skip the HTTP runs")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    records = [
        SeriesRecord.model_validate(raw).with_derived_fields()
        for raw in generate_records(args.count, args.seed)
    ]
    generated_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = SearchIndex(records)
    build_s = time.perf_counter() - t0
    queries = _queries(records, args.queries, args.seed)
    timings = [bench_in_process(index, queries)]
    if not args.no_http:
        timings += bench_http(records, queries[: args.http_queries])

    command = "python -m bench.search " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join(
        [
            f"## Search, {args.count:,} generated series ({datetime.now(UTC):%Y-%m-%d})",
            "",
            f"Command: `{command.strip()}` (what `make bench` runs)  ",
            f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}  ",
            f"Generate + validate: {generated_s:.1f} s; index build: {build_s:.1f} s",
            "",
            "| run | queries | p50 ms | p90 ms | p99 ms | max ms | queries/s |",
            "|---|---|---|---|---|---|---|",
            *(t.row() for t in timings),
            "",
        ]
    )
    print(report)
    record_section("## Search,", report)


if __name__ == "__main__":
    main()
