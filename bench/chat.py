"""Chat throughput and latency: a served MangaAssist (2 workers, offline model) under wrk.

Run with ``python -m bench.chat`` (needs Debian's ``wrk``: ``apt-get install wrk``). The server
runs on 127.0.0.1 with a fresh SQLite store and the curated catalog; each concurrency level runs
for a fixed time, after a warm-up. Results go to bench/RESULTS.md with this command.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from bench.results import record_section
from bench.server import running_server

LUA = Path(__file__).with_name("wrk") / "chat.lua"


def _run_wrk(base: str, concurrency: int, seconds: int) -> dict[str, float]:
    threads = min(2, concurrency)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{seconds}s", "--timeout", "5s",
         "-s", str(LUA), base],
        capture_output=True, text=True, check=True, timeout=seconds + 60,
    ).stdout  # fmt: skip
    line = next(line for line in out.splitlines() if line.startswith("RESULT "))
    result: dict[str, float] = json.loads(line.removeprefix("RESULT "))
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=15, help="per concurrency level")
    parser.add_argument("--concurrency", default="1,10,64")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        raise SystemExit("bench/chat needs wrk: apt-get install wrk")

    rows: list[str] = []
    with tempfile.TemporaryDirectory(prefix="mangaassist-chat-bench-") as home:
        url = f"sqlite:///{home}/bench.db"
        env = {**os.environ, "MANGAASSIST_STORE_URL": url}
        cli = [sys.executable, "-m", "mangaassist"]
        subprocess.run([*cli, "catalog", "load"], env=env, check=True, capture_output=True)
        with running_server(url, workers=args.workers) as base:
            _run_wrk(base, 8, 3)  # warm-up: every worker builds its index and view
            for concurrency in (int(c) for c in args.concurrency.split(",")):
                r = _run_wrk(base, concurrency, args.seconds)
                rps = r["requests"] / (r["duration_us"] / 1e6)
                rows.append(
                    f"| {concurrency} | {r['requests']:,.0f} | {rps:,.0f} | "
                    f"{r['p50'] / 1000:.1f} | {r['p95'] / 1000:.1f} | {r['p99'] / 1000:.1f} | "
                    f"{r['max'] / 1000:.1f} | {r['errors'] + r['non2xx']:.0f} |"
                )
                print(rows[-1], flush=True)

    command = "python -m bench.chat " + " ".join(argv if argv is not None else sys.argv[1:])
    report = "\n".join(
        [
            f"## Chat, {args.workers} workers, offline model ({datetime.now(UTC):%Y-%m-%d})",
            "",
            f"Command: `{command.strip()}`; wrk on the same 2-core machine (it competes for "
            "the CPU), 16 rotating Japanese/English messages, new session per request, "
            "SQLite store, in-process cache per worker.",
            "",
            "| concurrency | requests | req/s | p50 ms | p95 ms | p99 ms | max ms | errors |",
            "|---|---|---|---|---|---|---|---|",
            *rows,
            "",
        ]
    )
    print(report)
    record_section("## Chat,", report)


if __name__ == "__main__":
    main()
