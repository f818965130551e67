"""Fuzzed credentials through a served app: always 401/403 (or 200/429), never a 5xx."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mangaassist.api.app import create_app
from mangaassist.bootstrap import build
from mangaassist.settings import Settings

SECRET = "fuzz-hs256-secret-that-is-long-enough"
ISSUER = "https://id.shop.test"
CODES = {
    "UNAUTHENTICATED",
    "API_KEY_INVALID",
    "API_KEY_REVOKED",
    "TOKEN_INVALID",
    "TOKEN_EXPIRED",
    "RATE_LIMITED",
    "QUOTA_EXCEEDED",
}


class _Served:
    def __init__(self, url: str, api_key: str, revoked_key: str) -> None:
        self.url = url
        self.api_key = api_key
        self.revoked_key = revoked_key


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Served]:
    folder: Path = tmp_path_factory.mktemp("fuzz")
    values: dict[str, Any] = {
        "store_url": f"sqlite:///{folder / 'fuzz.db'}",
        "access_control": True,
        "worker_embedded": False,
        "jwt_secret": SECRET,
        "jwt_issuer": ISSUER,
        "access_plans": {"standard": {"rate_per_s": 100_000, "burst": 100_000}},
        "anonymous_ip_plan": {"rate_per_s": 100_000, "burst": 100_000},
        "anonymous_session_plan": {"rate_per_s": 100_000, "burst": 100_000},
    }
    container = build(Settings(**values))
    server = uvicorn.Server(
        uvicorn.Config(create_app(container=container), host="127.0.0.1", port=0, log_config=None)
    )
    keys: dict[str, str] = {}

    def run() -> None:
        async def main() -> None:
            await container.store.migrate()
            _, good = await container.keys.create("fuzz", "standard")
            _, revoked = await container.keys.create("gone", "standard")
            await container.keys.revoke(revoked.prefix)
            keys.update(good=good.api_key, revoked=revoked.api_key)
            await server.serve()

        asyncio.run(main())

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield _Served(f"http://127.0.0.1:{port}", keys["good"], keys["revoked"])
    finally:
        server.should_exit = True
        thread.join(30)


#: Header values h11 will send: no CR, LF or NUL, latin-1 only.
_header_text = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, blacklist_characters="\x7f"),
    max_size=200,
)


@st.composite
def _mangled_key(draw: st.DrawFn, key: str) -> str:
    """A near miss of a real key: a character changed, cut, grown or moved around."""
    position = draw(st.integers(0, len(key) - 1))
    replacement = draw(st.characters(min_codepoint=0x21, max_codepoint=0x7E))
    return draw(
        st.sampled_from(
            [
                key[:position] + replacement + key[position + 1 :],
                key[:position],
                key + replacement,
                key.upper(),
                key[::-1],
                key.replace("_", "-"),
            ]
        )
    )


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=6,
)


@st.composite
def _token(draw: st.DrawFn) -> str:
    """Mostly valid tokens with some claims dropped or replaced by any JSON, some signed with
    the wrong secret: near misses reach every check of the verifier and the gate."""
    claims: dict[str, Any] = {"iss": ISSUER, "sub": "user-1", "exp": int(time.time()) + 300}
    for name in draw(st.sets(st.sampled_from(sorted(claims)), max_size=2)):
        del claims[name]
    claims |= draw(
        st.dictionaries(
            st.sampled_from(["sub", "iss", "exp", "nbf", "iat", "aud", "client_id", "scope"]),
            st.integers(-(2**40), 2**40) | _json_values,
            max_size=3,
        )
    )
    secret = draw(st.sampled_from([SECRET, SECRET, SECRET, "another-secret-that-is-long-enough"]))
    header = draw(st.dictionaries(st.sampled_from(["kid", "typ", "cty", "crit"]), _json_values))
    return _sign({**header, "alg": "HS256"}, claims, secret)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(header: dict[str, Any], claims: dict[str, Any], secret: str) -> str:
    """An HS256 JWS of any JSON claims (PyJWT refuses to encode ill-typed ones)."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(mac)}"


def _api_keys(served: _Served) -> st.SearchStrategy[dict[str, str]]:
    keys = (
        _header_text
        | _mangled_key(served.api_key)
        | st.just(served.revoked_key)
        | st.just(served.api_key)
    )
    return keys.map(lambda key: {"X-Api-Key": key})


def _authorizations() -> st.SearchStrategy[dict[str, str]]:
    values = (
        _token().map(lambda token: f"Bearer {token}")
        | _header_text
        | _header_text.map(lambda text: f"Bearer {text}")
        | st.sampled_from(["Bearer", "Bearer ", "bearer x.y.z", "Basic dXNlcjpwYXNz"])
    )
    return values.map(lambda value: {"Authorization": value})


def _credentials(served: _Served, kind: str) -> st.SearchStrategy[dict[str, str]]:
    if kind == "key":
        return _api_keys(served)
    if kind == "token":
        return _authorizations()
    both = st.tuples(_api_keys(served), _authorizations())
    return both.map(lambda pair: pair[0] | pair[1]) | st.just({})


@pytest.mark.parametrize("kind", ["key", "token", "both"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/me", None),
        ("POST", "/v1/manga/query", {"query": "Frieren"}),
        ("POST", "/v1/chat", {"message": "こんにちは"}),
    ],
)
def test_fuzzed_credentials_never_cause_a_server_error(
    served: _Served, method: str, path: str, body: dict[str, str] | None, kind: str
) -> None:
    with httpx.Client(base_url=served.url, timeout=10) as client:

        @settings(
            max_examples=100,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(headers=_credentials(served, kind))
        def check(headers: dict[str, str]) -> None:
            # h11 will not send a value with surrounding whitespace; servers never see one
            assume(all(value == value.strip(" \t") for value in headers.values()))
            encoded = {name.encode(): value.encode("latin-1") for name, value in headers.items()}
            response = client.request(method, path, json=body, headers=encoded)
            assert response.status_code < 500, response.text
            if response.status_code >= 400:
                assert response.status_code in (401, 403, 429), response.text
                assert response.json()["error"]["code"] in CODES

        check()
