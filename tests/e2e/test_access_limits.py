"""Access limits held across API processes: two servers on one store count against one Redis.

Every limit here is one a partner or a visitor notices: the request after the burst, the request
after the day's quota, a second visitor behind the same proxy, a key revoked on another process.
Each test gets its own Redis namespace, so no count leaks from one test (or run) into the next.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import REDIS_URL, redis_problem, require_service
from tests.e2e.conftest import Server, start_server

pytestmark = pytest.mark.e2e

ADMIN_TOKEN = "e2e-admin-token"
#: Partners' plans: a burst of 6 at 1/s (a 6 s window), and 4 requests a UTC day.
PLANS = {
    "standard": {"rate_per_s": 100, "burst": 200, "quota": 10000, "quota_period": "day"},
    "burst6": {"rate_per_s": 1, "burst": 6, "quota": None},
    "quota4": {"rate_per_s": 100, "burst": 200, "quota": 4, "quota_period": "day"},
}
#: Anonymous visitors: 3 requests at once per client address (a 3 s window), no quota.
ANONYMOUS_IP_PLAN = {"rate_per_s": 1, "burst": 3, "quota": None}
#: Visitors behind the proxy at 127.0.0.1, which uvicorn trusts for ``X-Forwarded-For``.
VISITOR = "203.0.113.7"
OTHER_VISITOR = "198.51.100.23"
#: A peer uvicorn does not trust: its ``X-Forwarded-For`` must be ignored.
UNTRUSTED_PEER = "127.0.0.2"
#: Allowed disagreement between our clock and the servers' Retry-After.
CLOCK_SLACK_S = 5


def access_env(store: Path, namespace: str, **extra: str) -> dict[str, str]:
    """Environment of a server with access control on and its limits on Redis in ``namespace``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MANGAASSIST_")}
    return env | {
        "MANGAASSIST_STORE_URL": f"sqlite:///{store}",
        "MANGAASSIST_LOG_FORMAT": "json",
        "MANGAASSIST_ACCESS_CONTROL": "true",
        "MANGAASSIST_ADMIN_TOKEN": ADMIN_TOKEN,
        "MANGAASSIST_ACCESS_STORAGE_URL": REDIS_URL,
        "MANGAASSIST_CACHE_NAMESPACE": namespace,
        "MANGAASSIST_ACCESS_PLANS": json.dumps(PLANS),
        "MANGAASSIST_ANONYMOUS_IP_PLAN": json.dumps(ANONYMOUS_IP_PLAN),
        **extra,
    }


def admin_client(server: Server) -> httpx.Client:
    """A client of ``server``'s admin API."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    return httpx.Client(base_url=server.base_url, headers=headers, timeout=10)


def create_key(server: Server, name: str, plan: str) -> dict[str, str]:
    """A new key's creation answer: ``prefix`` and ``apiKey`` (the only time it is shown)."""
    with admin_client(server) as admin:
        response = admin.post("/admin/keys", json={"name": name, "plan": plan})
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


def revoke_key(server: Server, prefix: str) -> None:
    with admin_client(server) as admin:
        response = admin.delete(f"/admin/keys/{prefix}")
    assert response.status_code == 200, response.text
    assert response.json()["revokedAt"]


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def new_namespace() -> str:
    """A Redis namespace no other test or run uses."""
    return f"mangaassist-e2e-{uuid.uuid4().hex[:12]}"


def forget_namespace(name: str) -> None:
    """Delete the counters a test left in Redis (quotas would otherwise live a day)."""
    import redis

    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match=f"{name}:*"):
            client.delete(key)


@pytest.fixture
def namespace() -> Iterator[str]:
    """A Redis namespace of this test alone, emptied afterwards."""
    require_service("Redis", redis_problem)
    name = new_namespace()
    yield name
    forget_namespace(name)


@pytest.fixture
def servers(tmp_path: Path, namespace: str) -> Iterator[list[Server]]:
    """Two API processes on one SQLite store, each with its embedded worker."""
    (tmp_path / "store").mkdir()
    env = access_env(tmp_path / "store" / "shared.db", namespace)
    with ExitStack() as stack:
        running = []
        for name in ("a", "b"):
            logs = tmp_path / f"logs-{name}"
            logs.mkdir()
            running.append(stack.enter_context(start_server(env, logs, load_catalog=False)))
        yield running


def alternately(servers: list[Server], count: int) -> list[Server]:
    """``count`` turns taken by the servers in order: a, b, a, b, ..."""
    return [servers[turn % len(servers)] for turn in range(count)]


def query(client: httpx.Client, server: Server, api_key: str) -> httpx.Response:
    """One partner request (the design documents' ``manga_query``) with ``api_key``."""
    return client.post(
        f"{server.base_url}/v1/manga/query",
        json={"query": "おすすめの異世界マンガは？"},
        headers={"X-Api-Key": api_key},
    )


def chat(client: httpx.Client, server: Server, forwarded_for: str | None = None) -> httpx.Response:
    """One anonymous chat message, as forwarded by a proxy for ``forwarded_for`` if given."""
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post(
        f"{server.base_url}/v1/chat", json={"message": "Any good horror manga?"}, headers=headers
    )


def test_a_burst_is_exact_across_processes(servers: list[Server]) -> None:
    # Given a key allowed 6 requests at once, used alternately on two processes
    key = create_key(servers[0], "burst partner", "burst6")["apiKey"]
    with httpx.Client(timeout=10) as client:
        # When it sends 6 requests, then a 7th and an 8th
        answers = [query(client, server, key) for server in alternately(servers, 8)]
    # Then exactly 6 pass, and the count each reports is the shared one
    assert [a.status_code for a in answers] == [200] * 6 + [429, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:6]] == list("543210")
    refused = answers[6]
    assert error_code(refused) == "RATE_LIMITED"
    assert error_code(answers[7]) == "RATE_LIMITED"  # the other process refuses it too
    assert 1 <= int(refused.headers["Retry-After"]) <= 6
    assert refused.headers["X-RateLimit-Limit"] == "6"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert 0 < int(refused.headers["X-RateLimit-Reset"]) - time.time() <= 6 + CLOCK_SLACK_S


def test_a_daily_quota_is_shared_across_processes(servers: list[Server]) -> None:
    # Given a key with a quota of 4 a UTC day, well clear of midnight (a new day, a new count)
    key = create_key(servers[1], "quota partner", "quota4")["apiKey"]
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    if (midnight - now).total_seconds() < 15:
        time.sleep((midnight - now).total_seconds() + 1)
        midnight += timedelta(days=1)
    with httpx.Client(timeout=10) as client:
        # When it sends 4 requests alternately to two processes, then a 5th and a 6th
        answers = [query(client, server, key) for server in alternately(servers, 6)]
    # Then 4 pass, counting down one quota, and the rest wait for the next UTC day
    assert [a.status_code for a in answers] == [200] * 4 + [429, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers[:4]] == list("3210")
    assert {a.headers["X-RateLimit-Limit"] for a in answers} == {"4"}
    for refused in answers[4:]:
        assert error_code(refused) == "QUOTA_EXCEEDED"
        assert refused.headers["X-RateLimit-Reset"] == str(int(midnight.timestamp()))
        to_midnight = midnight.timestamp() - time.time()
        assert abs(int(refused.headers["Retry-After"]) - to_midnight) <= CLOCK_SLACK_S


def test_anonymous_visitors_are_counted_per_address_across_processes(
    servers: list[Server],
) -> None:
    with httpx.Client(timeout=10) as local:
        # Given a visitor at 127.0.0.1 who used up its 3 requests on two processes
        own = [chat(local, server) for server in alternately(servers, 4)]
        # When visitors behind the trusted proxy at 127.0.0.1 chat (X-Forwarded-For)
        behind = [chat(local, server, VISITOR) for server in alternately(servers, 4)]
        other = chat(local, servers[1], OTHER_VISITOR)
        own_again = chat(local, servers[1])
    # Then each forwarded address has its own 3, and the proxy's own count stays spent
    assert [a.status_code for a in own] == [200, 200, 200, 429]
    assert [a.headers["X-RateLimit-Remaining"] for a in own[:3]] == list("210")
    assert error_code(own[3]) == "RATE_LIMITED"
    assert own[3].headers["X-RateLimit-Limit"] == "3"
    assert 1 <= int(own[3].headers["Retry-After"]) <= 3
    assert [a.status_code for a in behind] == [200, 200, 200, 429]
    assert (other.status_code, own_again.status_code) == (200, 429)

    # When a peer uvicorn does not trust sends a fresh X-Forwarded-For with every request
    transport = httpx.HTTPTransport(local_address=UNTRUSTED_PEER)
    with httpx.Client(transport=transport, timeout=10) as untrusted:
        spoofed = [
            chat(untrusted, server, f"192.0.2.{turn}")
            for turn, server in enumerate(alternately(servers, 4))
        ]
    # Then the header is ignored: the peer's own address is counted, 3 and no more
    assert [a.status_code for a in spoofed] == [200, 200, 200, 429]


def test_a_key_revoked_on_one_process_is_refused_by_the_other(servers: list[Server]) -> None:
    first, second = servers
    # Given a key created on the first process and in use on both
    created = create_key(first, "leaving partner", "standard")
    with httpx.Client(timeout=10) as client:
        assert [query(client, s, created["apiKey"]).status_code for s in servers] == [200, 200]
        # When an operator revokes it on the first process
        revoke_key(first, created["prefix"])
        # Then both refuse it from the next request on
        refusals = [query(client, s, created["apiKey"]) for s in (second, first)]
    assert [r.status_code for r in refusals] == [403, 403]
    assert [error_code(r) for r in refusals] == ["API_KEY_REVOKED"] * 2
