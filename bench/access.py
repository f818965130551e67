"""Access-control overhead: the same route with access control off, on in memory, on in Redis.

Run with ``python -m bench.access [--requests N] [--redis-url URL]``.

Requests go through the whole app in process (``httpx.ASGITransport``, no sockets), so the
difference between the rows is what access control costs per request: key parsing and hashing,
the key lookup in the SQLite store, the coarsened ``last_used_at`` write, and three limit checks
(the key's moving window, the route throttle, the daily quota) in memory or in Redis.
``GET /v1/me`` is used because it does nothing else; ``POST /v1/chat`` shows the share of a real
answer.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from bench.results import record_section
from mangaassist.api.app import create_app
from mangaassist.bootstrap import build
from mangaassist.observability.logging import configure_logging
from mangaassist.settings import Settings

PLANS = {"standard": {"rate_per_s": 1_000_000, "burst": 1_000_000, "quota": 100_000_000}}


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def _run(
    name: str, values: dict[str, Any], method: str, path: str, requests: int
) -> dict[str, Any]:
    container = build(Settings(**values))
    app = create_app(container=container)
    async with app.router.lifespan_context(app):
        headers = {}
        if values.get("access_control"):
            _, issued = await container.keys.create("bench", "standard")
            headers["X-Api-Key"] = issued.api_key
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            body = {"message": "おすすめの異世界マンガは？"} if method == "POST" else None
            for _ in range(50):  # warm-up: caches, connections, the first index use
                await client.request(method, path, json=body, headers=headers)
            latencies: list[float] = []
            started = time.perf_counter()
            for _ in range(requests):
                sent = time.perf_counter()
                response = await client.request(method, path, json=body, headers=headers)
                latencies.append((time.perf_counter() - sent) * 1000)
                assert response.status_code == 200, response.text
            elapsed = time.perf_counter() - started
    return {
        "run": name,
        "route": f"{method} {path}",
        "requests": requests,
        "p50": statistics.median(latencies),
        "p99": _percentile(latencies, 0.99),
        "rps": requests / elapsed,
    }


async def main(requests: int, redis_url: str) -> list[dict[str, Any]]:
    folder = Path(tempfile.mkdtemp(prefix="bench-access-"))
    base: dict[str, Any] = {"worker_embedded": False, "access_plans": PLANS}
    runs: list[tuple[str, dict[str, Any]]] = [
        ("off", {"access_control": False}),
        ("on, memory://", {"access_control": True}),
        (
            "on, Redis",
            {
                "access_control": True,
                "access_storage_url": redis_url,
                "cache_namespace": f"bench:{uuid.uuid4().hex}",
            },
        ),
    ]
    rows = []
    for method, path in (("GET", "/v1/me"), ("POST", "/v1/chat")):
        for name, extra in runs:
            store = f"sqlite:///{folder / (uuid.uuid4().hex + '.db')}"
            rows.append(
                await _run(name, {**base, **extra, "store_url": store}, method, path, requests)
            )
    return rows


def _section(rows: list[dict[str, Any]], command: str) -> str:
    lines = [
        f"## Access control overhead, in process ({time.strftime('%Y-%m-%d')})",
        "",
        f"Command: `{command}`  ",
        f"Machine: {platform.machine()}, Python {platform.python_version()}; one client, "
        "sequential requests through the whole app (no sockets); SQLite store.",
        "",
        "| route | access control | requests | p50 ms | p99 ms | requests/s |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['route']} | {r['run']} | {r['requests']} | {r['p50']:.2f} | {r['p99']:.2f} | "
        f"{r['rps']:,.0f} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--no-record", action="store_true", help="print only")
    args = parser.parse_args()
    configure_logging("warning", "console")
    rows = asyncio.run(main(args.requests, args.redis_url))
    command = f"python -m bench.access --requests {args.requests}"
    section = _section(rows, command)
    print(section)
    if not args.no_record:
        record_section("Access control overhead", section)


if __name__ == "__main__":
    cli()
