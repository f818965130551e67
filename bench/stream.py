"""Streaming benchmark: time to first delta, delta throughput, memory of idle connections.

Run with ``python -m bench.stream``. A server (1 worker, offline model, SQLite) runs on
127.0.0.1; clients use the ``websockets`` library on the same 2-core machine. The offline
responder produces its first chunk at once, so the time to first delta measured at the client is
what the server adds: validation, planning, buffering and the WebSocket hop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from bench.results import record_section
from bench.server import running_server

QUESTIONS = [
    "おすすめの異世界マンガは？",
    "Any good horror manga?",
    "葬送のフリーレンってどんな話？",
    "Is Frieren vol. 12 in stock?",
    "泣ける漫画が読みたい",
    "送料はいくらですか？",
]


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def _ask(ws: ClientConnection, question: str) -> tuple[float, int]:
    """Seconds to the first delta, and deltas received, for one answer."""
    sent = time.perf_counter()
    await ws.send(json.dumps({"action": "sendMessage", "data": {"message": question}}))
    first = 0.0
    deltas = 0
    while True:
        frame = json.loads(await ws.recv())
        if frame["type"] == "delta":
            if not deltas:
                first = time.perf_counter() - sent
            deltas += 1
        elif frame["type"] in ("done", "error", "cancelled"):
            return first, deltas


async def _first_delta(url: str, count: int) -> list[float]:
    async with connect(url) as ws:
        await ws.recv()
        return [(await _ask(ws, QUESTIONS[i % len(QUESTIONS)]))[0] for i in range(count)]


async def _throughput(url: str, connections: int, answers_each: int) -> tuple[int, float]:
    async def one(i: int) -> int:
        async with connect(url) as ws:
            await ws.recv()
            total = 0
            for j in range(answers_each):
                total += (await _ask(ws, QUESTIONS[(i + j) % len(QUESTIONS)]))[1]
            return total

    started = time.perf_counter()
    totals = await asyncio.gather(*(one(i) for i in range(connections)))
    return sum(totals), time.perf_counter() - started


async def _idle_memory(url: str, pid: int, count: int) -> tuple[float, float]:
    before = _rss_mib(pid)
    sockets = []
    for _ in range(count):
        ws = await connect(url)
        await ws.recv()  # hello: the server has set the connection up
        sockets.append(ws)
    await asyncio.sleep(1)
    after = _rss_mib(pid)
    await asyncio.gather(*(ws.close() for ws in sockets))
    return before, after


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=300, help="answers timed one by one")
    parser.add_argument("--connections", type=int, default=50, help="concurrent streams")
    parser.add_argument("--idle", type=int, default=1000, help="idle connections held")
    args = parser.parse_args(argv)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 65536), hard))  # server inherits it

    with tempfile.TemporaryDirectory(prefix="mangaassist-stream-bench-") as home:
        url = f"sqlite:///{home}/bench.db"
        cli = [sys.executable, "-m", "mangaassist"]
        env = {**os.environ, "MANGAASSIST_STORE_URL": url}
        subprocess.run([*cli, "catalog", "load"], env=env, check=True, capture_output=True)
        with running_server(url) as base:
            pid: int = running_server.pid  # type: ignore[attr-defined]
            ws_url = base.replace("http://", "ws://") + "/v1/ws"
            asyncio.run(_first_delta(ws_url, 20))  # warm-up
            firsts = asyncio.run(_first_delta(ws_url, args.answers))
            deltas, seconds = asyncio.run(_throughput(ws_url, args.connections, 10))
            before, after = asyncio.run(_idle_memory(ws_url, pid, args.idle))

    command = "python -m bench.stream " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join(
        [
            f"## Streaming, 1 worker, offline model ({datetime.now(UTC):%Y-%m-%d})",
            "",
            f"Command: `{command.strip()}`; websockets clients on the same 2-core machine.",
            "",
            "| measure | value |",
            "|---|---|",
            f"| time to first delta over the model's own first chunk, p50 | "
            f"{statistics.median(firsts) * 1000:.1f} ms |",
            f"| same, p99 | {_pct(firsts, 99) * 1000:.1f} ms |",
            f"| deltas/s, {args.connections} connections streaming 10 answers each | "
            f"{deltas / seconds:,.0f} ({deltas:,} deltas in {seconds:.1f} s) |",
            f"| server memory, {args.idle} idle connections | {after - before:.1f} MiB "
            f"({(after - before) * 1024 / args.idle:.1f} KiB each; {before:.0f} -> "
            f"{after:.0f} MiB RSS) |",
            "",
        ]
    )
    print(report)
    record_section("## Streaming,", report)


if __name__ == "__main__":
    main()
