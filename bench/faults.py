"""Model faults under load: the primary model fails, the customer still gets an answer in time.

Run with ``python -m bench.faults``. Two fake Bedrock runtimes (``tests/model_servers``) run as
processes on 127.0.0.1: a primary ("Sonnet") failing a share of its calls (half throttled, a
third hanging before the status line, a sixth stalling after the stream opened) with realistic
latency, and a fallback ("Haiku"), faster and rarely throttled. The API (2 workers) chains both
tiers as primary -> fallback -> offline. An asyncio httpx client sends a bounded number of unique
Japanese/English messages (no response-cache hits) with a fixed concurrency, a share of them
over SSE (``POST /v1/chat/stream``).

What must hold: no 5xx and no request left without an answer, p99 within the chat deadline. The
report adds where answers came from, the degraded share, interrupted streams and the failures the
fake actually injected (each fake keeps the outcome of every call it drew).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bench.results import record_section
from bench.server import free_port, running_server, wait_until_ready
from mangaassist.chat.service import PERSIST_RESERVE_S

ROOT = Path(__file__).resolve().parent.parent
PRIMARY_ID = "anthropic.claude-3-sonnet-20240229-v1:0"
FALLBACK_ID = "anthropic.claude-3-haiku-20240307-v1:0"
MODEL_NAMES = {PRIMARY_ID: "sonnet", FALLBACK_ID: "haiku", "offline": "offline"}
#: 41 tokens of the fake's split: keigo naming no series, so the grounding guard keeps it whole.
REPLY = (
    "お問い合わせいただき誠にありがとうございます。ご希望に沿う作品をカタログからお探しいたしました。"
    "在庫と価格は下記のとおりでございますので、どうぞご確認くださいませ。"
)
QUESTIONS = [
    "おすすめの異世界マンガは？", "ワンピースの最新刊は在庫ありますか？",
    "Is Frieren vol. 12 in stock?", "泣ける漫画が読みたい", "Any good horror manga?",
    "葬送のフリーレンってどんな話？", "送料はいくらですか？", "Who wrote Berserk?",
    "尾田栄一郎の作品は？", "鬼滅の刃みたいな漫画ありますか", "How much is shipping?",
    "チェンソーマンの値段は？", "something like Naruto", "支払い方法は？", "ﾊｲｷｭｰの在庫ある？",
    "Can I return a manga after 10 days?", "呪術廻戦は全巻そろっていますか？",
    "Recommend a romance manga for a beginner",
]  # fmt: skip
FAKE_READY_S = 20.0
#: The client waits this long for an answer before counting the request as lost.
CLIENT_TIMEOUT_S = 15.0
FAILURE_OUTCOMES = ("throttle", "timeout", "stall")
_SAMPLE = re.compile(r"^(\w+)\{(.*)\} (\S+)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


@contextmanager
def _fake_bedrock(plan: dict[str, Any]) -> Iterator[str]:
    """A fake Bedrock process on a free port; yields its base URL once it answers."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.model_servers.bedrock", "--port", str(port),
         "--plan", json.dumps(plan)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/_fake/calls", process, FAKE_READY_S, interval_s=0.1)
        yield base
    finally:
        process.terminate()  # calls still hanging on purpose would hold a graceful exit up
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _primary_plan(failure: float) -> dict[str, Any]:
    rates = {"throttle": failure / 2, "timeout": failure / 3, "stall": failure / 6}
    return {"rates": rates, "first_token_s": [0.3, 0.9], "token_interval_s": 0.02,
            "hang_s": 30, "reply": REPLY, "seed": 7}  # fmt: skip


def _fallback_plan() -> dict[str, Any]:
    return {"rates": {"throttle": 0.02}, "first_token_s": [0.15, 0.4], "token_interval_s": 0.01,
            "hang_s": 30, "reply": REPLY, "seed": 11}  # fmt: skip


@dataclass
class Sample:
    """One request as the client saw it."""

    streamed: bool
    status: int  #: HTTP status; 0 when no response came (transport error, client timeout)
    seconds: float
    model: str = ""
    degraded: bool = False
    server_ms: int = 0
    first_delta_s: float | None = None
    end: str = ""  #: a stream's last event: done, error, cancelled, or "" when it just stopped


async def _chat(client: httpx.AsyncClient, message: str) -> Sample:
    started = time.perf_counter()
    try:
        response = await client.post("/v1/chat", json={"message": message})
    except httpx.HTTPError:
        return Sample(False, 0, time.perf_counter() - started)
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        return Sample(False, response.status_code, seconds)
    body = response.json()
    return Sample(False, 200, seconds, body["model"], body["degraded"], body["latencyMs"])


async def _stream(client: httpx.AsyncClient, message: str) -> Sample:
    started = time.perf_counter()
    sample = Sample(True, 0, 0.0)
    try:
        async with client.stream("POST", "/v1/chat/stream", json={"message": message}) as resp:
            sample.status = resp.status_code
            event = ""
            async for line in resp.aiter_lines():
                if line.startswith("event: "):
                    event = line.removeprefix("event: ")
                elif line.startswith("data: "):
                    if event == "delta" and sample.first_delta_s is None:
                        sample.first_delta_s = time.perf_counter() - started
                    elif event == "done":
                        answer = json.loads(line.removeprefix("data: "))["answer"]
                        sample.model, sample.degraded = answer["model"], answer["degraded"]
                        sample.server_ms = answer["latencyMs"]
                    if event in ("done", "error", "cancelled"):
                        sample.end = event
                        break
    except httpx.HTTPError:
        pass  # status stays as received (0 if none); end stays "": the stream was cut
    sample.seconds = time.perf_counter() - started
    return sample


async def _load(
    base: str, requests: int, concurrency: int, stream_share: float, max_s: float, seed: int
) -> tuple[list[Sample], float]:
    """Send ``requests`` unique messages from ``concurrency`` workers; stop early at ``max_s``."""
    rng = random.Random(seed)
    jobs = iter(
        [
            (f"{rng.choice(QUESTIONS)} #{seed}-{i}", rng.random() < stream_share)
            for i in range(requests)
        ]
    )
    samples: list[Sample] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=base, timeout=CLIENT_TIMEOUT_S, limits=limits, trust_env=False
    ) as client:
        stop_at = time.monotonic() + max_s

        async def worker() -> None:
            for message, streamed in jobs:
                samples.append(await (_stream if streamed else _chat)(client, message))
                if time.monotonic() > stop_at:
                    return

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return samples, time.perf_counter() - started


def _metrics(base: str) -> Counter[tuple[str, str, str]]:
    """Model counters of /metrics (summed over the workers), keyed (counter, model, label).

    The label is the counter's other one: outcome, kind or reason ("" for retries).
    """
    found: Counter[tuple[str, str, str]] = Counter()
    for line in httpx.get(f"{base}/metrics", timeout=10).text.splitlines():
        match = _SAMPLE.match(line)
        if match and match[1].startswith("mangaassist_model_") and match[1].endswith("_total"):
            labels = dict(_LABEL.findall(match[2]))
            model = labels.pop("model", "")
            found[(match[1], model, next(iter(labels.values()), ""))] += int(float(match[3]))
    return found


def _outcomes(fake: str) -> Counter[str]:
    calls = httpx.get(f"{fake}/_fake/calls", timeout=30).json()
    return Counter(str(call.get("outcome", "?")) for call in calls)


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


def _ms_row(name: str, values: list[float]) -> str:
    cells = [f"{_pct(values, p) * 1000:,.0f}" for p in (50, 95, 99, 100)]
    return f"| {name} | {len(values):,} | " + " | ".join(cells) + " |"


def _share(part: int, whole: int) -> str:
    return f"{part:,} ({part / whole:.1%})" if whole else "0"


def _chain_entry(fake: str, model_id: str) -> str:
    return (
        f"bedrock+{fake.replace('http://', 'http://testing:testing@')}?region=us-east-1#{model_id}"
    )


def _metric_key(fake: str, model_id: str) -> str:
    """The router's name of a chain entry in metrics (the URL without credentials or query)."""
    return f"bedrock+{fake}#{model_id}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--primary-failure", type=float, default=0.30, help="share of calls")
    parser.add_argument("--requests", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--deadline", type=float, default=3.0, help="chat deadline, seconds")
    parser.add_argument("--stream-share", type=float, default=0.2, help="share sent over SSE")
    parser.add_argument("--first-token", type=float, help="MANGAASSIST_MODEL_FIRST_TOKEN_S")
    parser.add_argument("--max-seconds", type=float, default=240.0, help="wall time of the load")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mangaassist-faults-bench-") as home:
        url = f"sqlite:///{home}/bench.db"
        env = {**os.environ, "MANGAASSIST_STORE_URL": url}
        cli = [sys.executable, "-m", "mangaassist"]
        subprocess.run([*cli, "catalog", "load"], env=env, check=True, capture_output=True)
        with (
            _fake_bedrock(_primary_plan(args.primary_failure)) as primary,
            _fake_bedrock(_fallback_plan()) as fallback,
        ):
            chain = [_chain_entry(primary, PRIMARY_ID), _chain_entry(fallback, FALLBACK_ID)]
            server_env = {
                "MANGAASSIST_MODEL_CHAINS": json.dumps(
                    {"fast": [*chain, "offline"], "quality": [*chain, "offline"]}
                ),
                "MANGAASSIST_CACHE_URL": "memory://",
                "MANGAASSIST_LOG_LEVEL": "warning",
                "MANGAASSIST_CHAT_DEADLINE_S": str(args.deadline),
            }
            if args.first_token is not None:
                server_env["MANGAASSIST_MODEL_FIRST_TOKEN_S"] = str(args.first_token)
            with running_server(url, args.workers, server_env) as base:
                # Warm-up: every worker builds its catalog view and opens its model clients.
                asyncio.run(_load(base, 8 * args.workers, 4, args.stream_share, 60, seed=0))
                for fake in (primary, fallback):
                    httpx.delete(f"{fake}/_fake/calls", timeout=10)
                before = _metrics(base)
                samples, seconds = asyncio.run(
                    _load(base, args.requests, args.concurrency, args.stream_share,
                          args.max_seconds, args.seed)
                )  # fmt: skip
                after = _metrics(base)
                injected = {"sonnet": _outcomes(primary), "haiku": _outcomes(fallback)}
    keys = {"sonnet": _metric_key(primary, PRIMARY_ID), "haiku": _metric_key(fallback, FALLBACK_ID)}
    report, failed = _report(args, argv, samples, seconds, injected, after - before, keys)
    print(report)
    record_section("## Model faults", report)
    if failed:
        raise SystemExit(f"bench.faults: {failed}")


def _setup_note(args: argparse.Namespace) -> str:
    failure = args.primary_failure
    first_token = f"{args.first_token:g} s" if args.first_token is not None else "1.5 s (default)"
    overrides = sorted(
        f"{name}={value}"
        for name, value in os.environ.items()
        if name.startswith(("MANGAASSIST_BREAKER_", "MANGAASSIST_MODEL_"))
    )
    return (
        f"Setup: both tiers chain sonnet -> haiku -> offline. Fake Sonnet fails {failure:.0%} "
        f"of calls (throttle {failure / 2:.0%}, timeout {failure / 3:.0%}, stall "
        f"{failure / 6:.0%}; hung calls hang 30 s), first token 0.3-0.9 s, 41 tokens 20 ms "
        "apart; fake Haiku throttles 2%, first token 0.15-0.4 s, tokens 10 ms apart (seeds 7 "
        "and 11; draws interleave with the load). API: deadline "
        f"{args.deadline:g} s, first-token wait {first_token}, 2 attempts per model, breaker "
        "5 failures and half the calls in 30 s -> open 15 s (per worker), in-process cache"
        + (f"; environment: {', '.join(overrides)}" if overrides else "")
        + f". Client: {args.concurrency} concurrent, unique messages (no cache hits), "
        f"{args.stream_share:.0%} over SSE."
    )


def _model_rows(
    injected: dict[str, Counter[str]], counts: Counter[tuple[str, str, str]], keys: dict[str, str]
) -> list[str]:
    rows = []
    for name, outcomes in injected.items():
        key = keys[name]
        calls = sum(outcomes.values())
        failures = sum(outcomes[o] for o in FAILURE_OUTCOMES)
        drawn = " / ".join(f"{outcomes[o]:,}" for o in ("ok", *FAILURE_OUTCOMES))

        def labelled(metric: str, key: str = key) -> str:
            found = {k[2]: v for k, v in counts.items() if k[0] == metric and k[1] == key}
            return ", ".join(f"{label} {n:,}" for label, n in sorted(found.items())) or "0"

        retries = counts[("mangaassist_model_retries_total", key, "")]
        rows.append(
            f"| {name} | {calls:,} | {drawn} | {failures / calls if calls else 0:.1%} | "
            f"{labelled('mangaassist_model_errors_total')} | {retries:,} | "
            f"{labelled('mangaassist_model_skipped_total')} | "
            f"{labelled('mangaassist_model_fallbacks_total')} |"
        )
    return rows


def _report(
    args: argparse.Namespace,
    argv: list[str] | None,
    samples: list[Sample],
    seconds: float,
    injected: dict[str, Counter[str]],
    counts: Counter[tuple[str, str, str]],
    keys: dict[str, str],
) -> tuple[str, str]:
    """The RESULTS.md section, and why the run failed ("" when it did not)."""
    answered = [s for s in samples if s.status == 200 and (not s.streamed or s.end == "done")]
    chats = [s for s in samples if not s.streamed]
    streams = [s for s in samples if s.streamed]
    statuses = Counter(s.status for s in samples)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    lost = statuses[0]
    totals = [s.seconds for s in samples if s.status == 200]
    p99 = _pct(totals, 99)
    models = Counter(MODEL_NAMES.get(s.model, s.model) for s in answered)
    degraded = sum(s.degraded for s in answered)
    ends = Counter(s.end or "cut" for s in streams if s.status == 200)
    first_deltas = [s.first_delta_s for s in streams if s.first_delta_s is not None]
    stream_totals = [s.seconds for s in streams if s.status == 200]
    sent = len(samples)
    command = "python -m bench.faults " + " ".join(argv if argv is not None else sys.argv[1:])
    failed = "; ".join(
        problem
        for problem, bad in (
            (f"{server_errors} responses were 5xx", server_errors),
            (f"{lost} requests got no response", lost),
            (f"{ends['cut']} streams stopped without a final event", ends["cut"]),
        )
        if bad
    )
    skipped = counts[("mangaassist_model_skipped_total", keys["sonnet"], "breaker_open")]
    model_s = args.deadline - PERSIST_RESERVE_S
    wait = min(args.first_token if args.first_token is not None else 1.5, model_s / 2)
    breaker = (
        f"Breakers: {skipped:,} answer{'' if skipped == 1 else 's'} skipped the primary on "
        "an open breaker. A breaker opens when at least 5 calls and half the calls of its 30 s "
        "window failed, so a primary failing 30% of calls stays in use and the retries and "
        "the fallback absorb its failures; with --primary-failure 0.9 it is skipped."
    )
    report = [
        f"## Model faults: primary failing {args.primary_failure:.0%} of calls, "
        f"{args.workers} workers, {args.concurrency} concurrent ({datetime.now(UTC):%Y-%m-%d})",
        "",
        f"Command: `{command.strip()}`  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; the client, the API and both fakes share it.  ",
        _setup_note(args),
        "",
        "| latency at the client | answers | p50 ms | p95 ms | p99 ms | max ms |",
        "|---|---|---|---|---|---|",
        _ms_row("all (POST /v1/chat, SSE to its last event)", totals),
        _ms_row("POST /v1/chat", [s.seconds for s in chats if s.status == 200]),
        _ms_row("SSE, to the last event", stream_totals),
        _ms_row("SSE, to the first delta", first_deltas),
        _ms_row("server `latencyMs` of the answers", [s.server_ms / 1000 for s in answered]),
        "",
        "| outcome | value |",
        "|---|---|",
        f"| requests, wall time, throughput | {sent:,} in {seconds:.1f} s: "
        f"{sent / seconds:.1f} req/s |",
        "| status codes | "
        + ", ".join(f"{status or 'none'}: {n:,}" for status, n in sorted(statuses.items()))
        + " |",
        f"| 5xx | {server_errors} |",
        f"| p99 within the {args.deadline:g} s deadline | "
        f"{'yes' if p99 <= args.deadline else 'no'} ({p99 * 1000:,.0f} ms) |",
        "| answered by sonnet / haiku / offline | "
        + " / ".join(_share(models[m], len(answered)) for m in ("sonnet", "haiku", "offline"))
        + " |",
        f"| degraded (the catalog answered alone) | {_share(degraded, len(answered))} |",
        f"| streams ending `done` / `error` (interrupted) / cut | {ends['done']:,} / "
        f"{ends['error']:,} / {ends['cut']:,} |",
        "",
        "| model | calls received | injected ok / throttle / timeout / stall | failure share "
        "injected | router: errors | router: retries | router: skipped | router: passed over |",
        "|---|---|---|---|---|---|---|---|",
        *_model_rows(injected, counts, keys),
        "",
        f"{server_errors} 5xx and {lost} lost requests; p99 {p99 * 1000:,.0f} ms against a "
        f"{args.deadline:g} s deadline. The tail is a hung primary: abandoned when its first "
        f"token is {wait:.2f} s late (the first-token wait, at most half the time left), then "
        "the fallback answers in full (0.55-0.8 s with these fakes); a throttled call is "
        "retried at once and costs almost nothing. A live answer must start within the "
        "deadline but may then stream past it (the router's rule): SSE totals stay inside "
        f"here (p99 {_pct(stream_totals, 99) * 1000:,.0f} ms) because the fakes' answers are "
        "41 tokens.",
        breaker,
        "",
    ]
    return "\n".join(report), failed


if __name__ == "__main__":
    main()
