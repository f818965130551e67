"""``mangaassist keys`` as an operator uses it, on a real SQLite store."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from mangaassist.access.keyring import ApiKeyRecord, authenticate
from mangaassist.cli import app
from mangaassist.store.sql import SqlStore
from mangaassist.store.sql_keys import SqlKeyRing

pytestmark = pytest.mark.timeout(60)

runner = CliRunner()
KEY_RE = re.compile(r"mk_live_[a-z2-7]{8}_[A-Za-z0-9_-]{43}")
PEPPER = "cli-test-pepper"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("MANGAASSIST_STORE_URL", url)
    monkeypatch.setenv("MANGAASSIST_API_KEY_PEPPER", PEPPER)
    monkeypatch.setenv("COLUMNS", "200")
    return url


def _keys(*args: str) -> Result:
    return runner.invoke(app, ["keys", *args])


def _created_key(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = KEY_RE.findall(result.stdout)
    assert len(found) == 1, result.stdout
    return str(found[0])


def _authenticate(store_url: str, api_key: str) -> ApiKeyRecord | None:
    async def check() -> ApiKeyRecord | None:
        store = SqlStore(store_url)
        try:
            return await authenticate(SqlKeyRing(store), api_key, pepper=PEPPER.encode())
        finally:
            await store.close()

    return asyncio.run(check())


def test_create_prints_the_key_once_then_list_shows_its_prefix(store_url: str) -> None:
    created = _keys("create", "--name", "Partner A")
    api_key = _created_key(created)
    prefix = api_key.split("_")[2]

    listed = _keys("list")

    assert "not shown again" in created.stderr
    assert "not shown again" not in created.stdout
    assert listed.exit_code == 0, listed.output
    assert prefix in listed.output
    assert "Partner A" in listed.output
    assert "standard" in listed.output
    assert "active" in listed.output
    assert api_key.split("_", 3)[3] not in listed.output


def test_a_created_key_authenticates_against_the_store(store_url: str) -> None:
    api_key = _created_key(_keys("create", "--name", "Partner A"))

    record = _authenticate(store_url, api_key)

    assert record is not None
    assert record.name == "Partner A"
    assert record.hash.startswith("hmac-sha256$")  # the configured pepper was used


def test_json_output_parses_and_only_create_has_the_key(store_url: str) -> None:
    created = _keys("create", "--name", "Partner B", "--plan", "standard", "--json")
    listed = _keys("list", "--json")

    body = json.loads(created.stdout)
    rows = json.loads(listed.stdout)
    assert set(body) == {"prefix", "apiKey", "name", "plan", "createdAt"}
    assert KEY_RE.fullmatch(body["apiKey"])
    assert [row["prefix"] for row in rows] == [body["prefix"]]
    assert rows[0]["active"] is True
    assert rows[0]["lastUsedAt"] is None
    assert "apiKey" not in rows[0]
    assert "hash" not in rows[0]
    assert "sha256" not in listed.output


def test_revoke_by_prefix_or_whole_key(store_url: str) -> None:
    first = _created_key(_keys("create", "--name", "first"))
    second = _created_key(_keys("create", "--name", "second"))
    first_prefix, second_prefix = first.split("_")[2], second.split("_")[2]

    by_prefix = _keys("revoke", first_prefix)
    again = _keys("revoke", first_prefix)
    by_key = _keys("revoke", second)
    listed = json.loads(_keys("list", "--json").stdout)

    assert by_prefix.exit_code == 0, by_prefix.output
    assert "revoked" in by_prefix.output
    assert again.exit_code == 0
    assert "already revoked" in again.output
    assert by_key.exit_code == 0, by_key.output
    assert second_prefix in by_key.output
    assert second not in by_key.output  # the secret is never echoed back
    assert [row["active"] for row in listed] == [False, False]
    assert _authenticate(store_url, first) is None
    assert _authenticate(store_url, second) is None


def test_revoking_an_unknown_key_fails_with_a_message(store_url: str) -> None:
    result = _keys("revoke", "zzzzzzzz")

    assert result.exit_code == 1
    assert "no API key has the prefix zzzzzzzz" in result.stderr


def test_an_unknown_plan_is_refused_naming_the_known_plans(store_url: str) -> None:
    result = _keys("create", "--name", "Partner A", "--plan", "platinum")

    assert result.exit_code == 2
    assert "unknown plan" in result.stderr
    assert "platinum" in result.stderr
    assert "standard" in result.stderr
    assert KEY_RE.search(result.output) is None
    assert json.loads(_keys("list", "--json").stdout) == []


def test_a_blank_name_is_refused(store_url: str) -> None:
    result = _keys("create", "--name", "   ")

    assert result.exit_code == 2
    assert KEY_RE.search(result.output) is None
