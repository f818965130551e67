"""RS256 bearer tokens against a JWKS URL served by a real HTTP server on loopback: caching, key
rotation, the refetch throttle against forged key ids, outages, and one fetch for many callers.

Time is a fake monotonic clock handed to the verifier, so "a minute later" takes no time.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from mangaassist.access.tokens import (
    MIN_REFETCH_INTERVAL_S,
    TokenConfig,
    TokenError,
    TokenVerifier,
)

pytestmark = pytest.mark.timeout(60)

ISSUER = "https://cognito-idp.ap-northeast-1.amazonaws.com/ap-northeast-1_TEST"
CLIENT_ID = "shop-app-client"
CACHE_S = 3600.0


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class JwksServer:
    """A real HTTP server on 127.0.0.1 serving a JWKS that the test edits, counting requests."""

    def __init__(self, port: int = 0) -> None:
        self.keys: list[dict[str, Any]] = []
        self.requests = 0
        self.delay_s = 0.0
        self.status = 200
        self._running = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests += 1
                time.sleep(server.delay_s)
                body = json.dumps({"keys": server.keys}).encode()
                self.send_response(server.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}/pool/.well-known/jwks.json"

    def start(self) -> None:
        threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True).start()
        self._running = True

    def stop(self) -> None:
        """Take the server down: later connections are refused."""
        if self._running:
            self._http.shutdown()
            self._running = False
        self._http.server_close()


@pytest.fixture(scope="module")
def key_a() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def key_b() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def jwks_server(key_a: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    server = JwksServer()
    server.keys = [_jwk(key_a, "a")]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def verifier(jwks_server: JwksServer, clock: FakeClock) -> AsyncIterator[TokenVerifier]:
    async with TokenVerifier(_config(jwks_server.url), clock=clock) as opened:
        yield opened


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def _config(url: str) -> TokenConfig:
    return TokenConfig(jwks_url=url, issuer=ISSUER, audience=CLIENT_ID, jwks_cache_s=CACHE_S)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def _token(key: rsa.RSAPrivateKey, kid: str, **claims: Any) -> str:
    """A Cognito-style access token: ``client_id`` and ``token_use``, no ``aud``."""
    now = int(time.time())
    payload = {
        "sub": "user-1",
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "token_use": "access",
        "iat": now,
        "exp": now + 300,
        **claims,
    }
    return jwt.encode(payload, key, algorithm="RS256", headers={"kid": kid})


async def _reason(verifier: TokenVerifier, token: str) -> str:
    with pytest.raises(TokenError) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_valid_token_verifies_and_the_key_set_is_cached(
    verifier: TokenVerifier, jwks_server: JwksServer, key_a: rsa.RSAPrivateKey
) -> None:
    claims = await verifier.verify(_token(key_a, "a", scope="orders"))
    assert (claims["sub"], claims["scope"]) == ("user-1", "orders")
    for _ in range(5):
        await verifier.verify(_token(key_a, "a"))
    assert jwks_server.requests == 1


async def test_key_set_is_refetched_when_the_cache_expires(
    verifier: TokenVerifier, jwks_server: JwksServer, key_a: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    await verifier.verify(_token(key_a, "a"))
    clock.now += CACHE_S - 1
    await verifier.verify(_token(key_a, "a"))
    assert jwks_server.requests == 1
    clock.now += 1
    await verifier.verify(_token(key_a, "a"))
    assert jwks_server.requests == 2


async def test_rotated_key_verifies_after_a_refetch(
    verifier: TokenVerifier,
    jwks_server: JwksServer,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    # Given a verifier that fetched the key set with key "a"
    await verifier.verify(_token(key_a, "a"))
    # When the IdP publishes key "b" and, a while later, signs with it
    jwks_server.keys = [_jwk(key_a, "a"), _jwk(key_b, "b")]
    clock.now += MIN_REFETCH_INTERVAL_S
    claims = await verifier.verify(_token(key_b, "b"))
    # Then the unknown kid triggered one refetch and both keys verify
    assert claims["sub"] == "user-1"
    assert jwks_server.requests == 2
    await verifier.verify(_token(key_a, "a"))
    assert jwks_server.requests == 2


async def test_retired_key_stops_verifying_after_a_refetch(
    verifier: TokenVerifier,
    jwks_server: JwksServer,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    await verifier.verify(_token(key_a, "a"))
    jwks_server.keys = [_jwk(key_b, "b")]
    clock.now += MIN_REFETCH_INTERVAL_S
    await verifier.verify(_token(key_b, "b"))
    assert await _reason(verifier, _token(key_a, "a")) == "unknown key id"


async def test_forged_kids_cause_at_most_one_refetch_a_minute(
    verifier: TokenVerifier, jwks_server: JwksServer, key_b: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    async def forge_many() -> None:
        for _ in range(25):
            token = _token(key_b, f"forged-{uuid.uuid4()}")
            assert await _reason(verifier, token) == "unknown key id"

    # Given the first fetch, made by the first forged token
    await forge_many()
    assert jwks_server.requests == 1
    # When forged kids keep coming, the IdP sees one request per minute at most
    clock.now += MIN_REFETCH_INTERVAL_S - 1
    await forge_many()
    assert jwks_server.requests == 1
    clock.now += 1
    await forge_many()
    assert jwks_server.requests == 2
    clock.now += MIN_REFETCH_INTERVAL_S / 2
    await forge_many()
    assert jwks_server.requests == 2
    clock.now += MIN_REFETCH_INTERVAL_S / 2
    await forge_many()
    assert jwks_server.requests == 3


async def test_cached_keys_keep_verifying_when_the_server_goes_down(
    verifier: TokenVerifier, jwks_server: JwksServer, key_a: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    # Given keys fetched once
    await verifier.verify(_token(key_a, "a"))
    # When the server goes away, even past the cache lifetime
    jwks_server.stop()
    await verifier.verify(_token(key_a, "a"))
    clock.now += CACHE_S + 1
    claims = await verifier.verify(_token(key_a, "a"))
    # Then the cached keys still verify
    assert claims["sub"] == "user-1"
    clock.now += MIN_REFETCH_INTERVAL_S
    assert (await verifier.verify(_token(key_a, "a")))["sub"] == "user-1"


@pytest.mark.parametrize("response", [500, "empty set", "not json"])
async def test_broken_responses_keep_the_cached_keys(
    verifier: TokenVerifier,
    jwks_server: JwksServer,
    key_a: rsa.RSAPrivateKey,
    key_b: rsa.RSAPrivateKey,
    clock: FakeClock,
    response: int | str,
) -> None:
    await verifier.verify(_token(key_a, "a"))
    if response == 500:
        jwks_server.status = 500
    elif response == "empty set":
        jwks_server.keys = []
    else:
        jwks_server.keys = [{"kty": "RSA", "kid": "b", "n": "not base64!", "e": "AQAB"}]
    clock.now += MIN_REFETCH_INTERVAL_S
    assert await _reason(verifier, _token(key_b, "b")) == "unknown key id"
    assert jwks_server.requests == 2
    assert (await verifier.verify(_token(key_a, "a")))["sub"] == "user-1"


async def test_server_down_from_the_start_means_signing_keys_unavailable(
    key_a: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    # Given a JWKS URL on a port nobody listens on
    url = f"http://127.0.0.1:{_unused_port()}/.well-known/jwks.json"
    async with TokenVerifier(_config(url), clock=clock) as verifier:
        # When tokens arrive, Then they are refused, and fast (no fetch while throttled)
        for _ in range(3):
            error_reason = await _reason(verifier, _token(key_a, "a"))
            assert error_reason == "signing keys unavailable"


async def test_keys_are_fetched_once_the_server_comes_back(
    key_a: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    port = _unused_port()
    url = f"http://127.0.0.1:{port}/pool/.well-known/jwks.json"
    async with TokenVerifier(_config(url), clock=clock) as verifier:
        assert await _reason(verifier, _token(key_a, "a")) == "signing keys unavailable"
        server = JwksServer(port)
        server.keys = [_jwk(key_a, "a")]
        server.start()
        try:
            clock.now += MIN_REFETCH_INTERVAL_S
            assert (await verifier.verify(_token(key_a, "a")))["sub"] == "user-1"
        finally:
            server.stop()
    assert server.requests == 1


async def test_concurrent_verifies_share_one_fetch(
    verifier: TokenVerifier, jwks_server: JwksServer, key_a: rsa.RSAPrivateKey
) -> None:
    # Given a slow IdP and no keys fetched yet
    jwks_server.delay_s = 0.3
    tokens = [_token(key_a, "a", jti=str(n)) for n in range(20)]
    # When 20 requests verify at once
    results = await asyncio.gather(*(verifier.verify(token) for token in tokens))
    # Then all verify with a single fetch
    assert [claims["jti"] for claims in results] == [str(n) for n in range(20)]
    assert jwks_server.requests == 1


async def test_concurrent_forged_kids_share_one_refetch(
    verifier: TokenVerifier, jwks_server: JwksServer, key_a: rsa.RSAPrivateKey, clock: FakeClock
) -> None:
    await verifier.verify(_token(key_a, "a"))
    jwks_server.delay_s = 0.2
    clock.now += MIN_REFETCH_INTERVAL_S
    forged = [_token(key_a, f"forged-{n}") for n in range(20)]
    results = await asyncio.gather(
        *(verifier.verify(token) for token in forged), return_exceptions=True
    )
    assert all(isinstance(result, TokenError) for result in results)
    assert jwks_server.requests == 2
