"""API keys are never kept or logged in clear, whichever way a partner sends them.

One server with access control on and debug logs is used the way partners use it: keys in
``X-Api-Key`` on several routes, a key in a WebSocket handshake's query (browsers cannot set
headers there), keys with a mistyped secret, a revoked key. Afterwards every byte the server
wrote (its logs, the store and every file beside it, the rate-limit counters in Redis) is
searched for the secrets. The public prefixes must be found in the store, which proves the
search looked where the keys live.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from mangaassist.access.keys import hash_secret, parse_key
from tests.conftest import REDIS_URL, redis_problem, require_service
from tests.e2e.conftest import Server, start_server
from tests.e2e.test_access_limits import (
    access_env,
    create_key,
    error_code,
    forget_namespace,
    new_namespace,
    revoke_key,
)

pytestmark = pytest.mark.e2e

#: Characters of a secret's start and end searched on their own: a log that truncates a key
#: still leaks this much, and 12 random base64 characters (72 bits) never occur by chance.
FRAGMENT = 12


@dataclass(repr=False)  # a failing test prints its fixtures: no secrets in the repr
class Leftovers:
    """Everything the server wrote, and the credentials that must not be in any of it."""

    keys: list[dict[str, str]]
    secrets: dict[str, str]  # what must never appear, by a name safe to print
    logs: str
    files_while_running: dict[Path, bytes]
    files_after_stop: dict[Path, bytes]
    redis_entries: list[bytes]
    store: Path

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced by its name, for failure messages."""
        for name, secret in sorted(self.secrets.items(), key=lambda item: -len(item[1])):
            text = text.replace(secret, f"<{name}>")
        return text


def log_entry(line: str) -> str:
    """A log line as ``logger [level] event`` (no timestamp, so equal leaks read as one)."""
    try:
        record = json.loads(line)
    except ValueError:
        return line
    return f"{record.get('logger')} [{record.get('level')}] {record.get('event')}"


def mistyped(api_key: str, position: int) -> str:
    """``api_key`` with one character of its secret changed (the prefix stays valid)."""
    parsed = parse_key(api_key)
    assert parsed is not None
    prefix, secret = parsed
    position %= len(secret)
    swapped = "A" if secret[position] != "A" else "B"
    changed = secret[:position] + swapped + secret[position + 1 :]
    return f"mk_live_{prefix}_{changed}"


def secret_of(api_key: str) -> str:
    parsed = parse_key(api_key)
    assert parsed is not None
    return parsed[1]


def read_folder(folder: Path) -> dict[Path, bytes]:
    """Every file under ``folder`` (SQLite's -wal and -shm files too) and its bytes."""
    return {path: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def redis_entries(namespace: str) -> list[bytes]:
    """Names and values of every Redis key in ``namespace`` (the rate-limit counters)."""
    import redis

    entries: list[bytes] = []
    with redis.Redis.from_url(REDIS_URL) as client:
        for key in client.scan_iter(match=f"{namespace}:*"):
            entries.append(key)
            kind = client.type(key)
            if kind == b"string":
                entries.append(client.get(key) or b"")
            elif kind == b"list":
                entries.extend(client.lrange(key, 0, -1))
            elif kind == b"zset":
                entries.extend(member for member, _ in client.zrange(key, 0, -1, withscores=True))
            elif kind == b"hash":
                entries.extend(b"%s=%s" % pair for pair in client.hgetall(key).items())
    return entries


async def open_socket(server: Server, api_key: str) -> dict[str, object]:
    """The first frame (``hello``) of a WebSocket opened with ``?apiKey=``, which then chats
    once, so the key is also judged per message."""
    url = f"{server.base_url.replace('http://', 'ws://')}/v1/ws?apiKey={api_key}"
    async with connect(url) as ws:
        hello: dict[str, object] = json.loads(await asyncio.wait_for(ws.recv(), 5))
        await ws.send(json.dumps({"action": "sendMessage", "data": {"message": "ONE PIECE?"}}))
        while json.loads(await asyncio.wait_for(ws.recv(), 10))["type"] not in ("done", "error"):
            pass
    return hello


async def refused_socket(server: Server, api_key: str) -> int:
    """The HTTP status that refused a WebSocket handshake with ``?apiKey=``."""
    url = f"{server.base_url.replace('http://', 'ws://')}/v1/ws?apiKey={api_key}"
    with pytest.raises(InvalidStatus) as refused:
        async with connect(url):
            pass
    return refused.value.response.status_code


def use_keys(server: Server, keys: list[dict[str, str]], wrong: list[str]) -> None:
    """Partners' traffic: every key on several routes, then mistyped and revoked ones."""
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        product = client.post("/v1/search", json={"query": "ONE PIECE"}).json()["results"][0]
        for key in keys:
            headers = {"X-Api-Key": key["apiKey"]}
            answers = [
                client.get("/v1/me", headers=headers),
                client.post("/v1/manga/query", json={"query": "鬼滅"}, headers=headers),
                client.post("/v1/chat", json={"message": "frieren?"}, headers=headers),
                client.post("/v1/search", json={"query": "naruto"}, headers=headers),
                client.get(f"/v1/catalog/{product['id']}", headers=headers),
                client.post("/v1/recommend", json={"genre": "shonen"}, headers=headers),
            ]
            assert [a.status_code for a in answers] == [200] * len(answers)
            assert answers[0].json()["subject"] == f"key:{key['prefix']}"
            hello = asyncio.run(open_socket(server, key["apiKey"]))
            assert hello["type"] == "hello"
        for wrong_key in wrong:
            refused = client.get("/v1/me", headers={"X-Api-Key": wrong_key})
            assert (refused.status_code, error_code(refused)) == (401, "API_KEY_INVALID")
            assert asyncio.run(refused_socket(server, wrong_key)) == 401
        revoke_key(server, keys[1]["prefix"])
        revoked = client.get("/v1/me", headers={"X-Api-Key": keys[1]["apiKey"]})
        assert (revoked.status_code, error_code(revoked)) == (403, "API_KEY_REVOKED")
        assert asyncio.run(refused_socket(server, keys[1]["apiKey"])) == 403


@pytest.fixture(scope="module")
def leftovers(tmp_path_factory: pytest.TempPathFactory) -> Leftovers:
    """One server's whole life with two keys, and what it left behind."""
    require_service("Redis", redis_problem)
    namespace = new_namespace()
    store = tmp_path_factory.mktemp("store") / "keys.db"
    env = access_env(store, namespace, MANGAASSIST_LOG_LEVEL="debug")
    try:
        with start_server(env, tmp_path_factory.mktemp("logs")) as server:
            keys = [create_key(server, f"partner {n}", "standard") for n in (1, 2)]
            wrong = [mistyped(keys[0]["apiKey"], 0), mistyped(keys[0]["apiKey"], -1)]
            use_keys(server, keys, wrong)
            files_while_running = read_folder(store.parent)
        entries = redis_entries(namespace)
    finally:
        forget_namespace(namespace)
    secrets: dict[str, str] = {}
    for n, key in enumerate(keys, 1):
        secret = secret_of(key["apiKey"])
        secrets |= {
            f"key {n}": key["apiKey"],
            f"secret {n}": secret,
            f"secret {n} start": secret[:FRAGMENT],
            f"secret {n} end": secret[-FRAGMENT:],
        }
    secrets |= {f"mistyped key {n}": key for n, key in enumerate(wrong, 1)}
    return Leftovers(
        keys=keys,
        secrets=secrets,
        logs=server.logs(),
        files_while_running=files_while_running,
        files_after_stop=read_folder(store.parent),
        redis_entries=entries,
        store=store,
    )


def test_no_key_is_logged(leftovers: Leftovers) -> None:
    lines = leftovers.logs.splitlines()
    # The logs are the debug logs of the requests above (the search looked at the right text)
    assert any('"level": "debug"' in line for line in lines)
    assert any('"path": "/v1/manga/query"' in line and '"status": 200' in line for line in lines)
    leaks = sorted(
        {
            leftovers.redact(log_entry(line))
            for line in lines
            if any(secret in line for secret in leftovers.secrets.values())
        }
    )
    assert not leaks, "keys in the logs:\n" + "\n".join(leaks)


def test_no_key_is_stored(leftovers: Leftovers) -> None:
    store_files = {**leftovers.files_while_running, **leftovers.files_after_stop}
    assert leftovers.store in store_files
    written = {path.name for path in store_files}
    assert {f"{leftovers.store.name}-wal", "queues.db", "analytics.jsonl"} <= written
    for snapshot in (leftovers.files_while_running, leftovers.files_after_stop):
        for path, data in snapshot.items():
            for name, secret in leftovers.secrets.items():
                assert secret.encode() not in data, f"{name} found in {path.name}"
    for entry in leftovers.redis_entries:
        for name, secret in leftovers.secrets.items():
            assert secret.encode() not in entry, f"{name} found in Redis"
    # The public prefixes are there: the search read where the keys are kept and counted
    counters = b"\n".join(leftovers.redis_entries)
    assert all(f"key:{key['prefix']}".encode() in counters for key in leftovers.keys)
    store_bytes = b"".join(
        data for path, data in store_files.items() if path.name.startswith(leftovers.store.name)
    )
    for key in leftovers.keys:
        assert key["prefix"].encode() in store_bytes


def test_the_store_keeps_a_hash_of_the_secret(leftovers: Leftovers) -> None:
    with closing(sqlite3.connect(leftovers.store)) as db:
        hashes = dict(db.execute("SELECT prefix, hash FROM api_keys").fetchall())
    assert set(hashes) == {key["prefix"] for key in leftovers.keys}
    for key in leftovers.keys:
        secret = secret_of(key["apiKey"])
        stored = hashes[key["prefix"]]
        assert secret not in stored
        assert stored == hash_secret(secret)  # SHA-256 of the secret (no pepper configured)
