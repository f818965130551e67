"""Verification of JWT bearer tokens: HS256 with a shared secret, RS256 with a JWKS.

The algorithm follows from the key, never from the token: HS256 is tried only against the
configured secret and RS256 only against keys of the JWKS, so ``alg: none`` and algorithm
confusion (an HS256 token keyed with the RSA public key) fail. PyJWT does the cryptography and
the claim checks; this module picks the key, keeps the JWKS fresh without letting forged key ids
hammer the identity provider, and turns every failure into a :class:`TokenError` whose reason is
safe to log and to send back.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx
import jwt
import structlog
from jwt.algorithms import HMACAlgorithm
from pydantic import SecretStr

if TYPE_CHECKING:
    from mangaassist.settings import Settings

__all__ = [
    "JWKS_FETCH_TIMEOUT_S",
    "MAX_JWKS_BYTES",
    "MIN_HS256_SECRET_BYTES",
    "MIN_REFETCH_INTERVAL_S",
    "MIN_RSA_KEY_BITS",
    "TokenConfig",
    "TokenError",
    "TokenVerifier",
    "bearer_token",
    "parse_jwks",
]

log = structlog.get_logger("mangaassist.access")

TokenErrorCode = Literal["TOKEN_INVALID", "TOKEN_EXPIRED"]

#: Fewest seconds between two JWKS fetches, so tokens with forged ``kid`` cannot hammer the IdP.
MIN_REFETCH_INTERVAL_S = 60.0
#: Connect/read budget of one JWKS fetch: it runs inside a request, which must not hang on it.
JWKS_FETCH_TIMEOUT_S = 2.0
#: Largest JWKS document read; a real one holds a handful of keys in a few kilobytes.
MAX_JWKS_BYTES = 1_048_576
#: RFC 7518 §3.2: an HS256 key must be at least as long as the hash output.
MIN_HS256_SECRET_BYTES = 32
#: NIST SP 800-131A: RSA keys below 2048 bits are not accepted for signatures.
MIN_RSA_KEY_BITS = 2048

_HS256 = "HS256"
_RS256 = "RS256"


class TokenError(Exception):
    """A bearer token was refused; ``reason`` is short and never holds the token or a secret."""

    def __init__(self, code: TokenErrorCode, reason: str) -> None:
        super().__init__(f"{code}: {reason}")
        self.code: TokenErrorCode = code
        self.reason = reason


@dataclass(frozen=True)
class TokenConfig:
    """Which tokens are accepted: the keys, the expected issuer and audience, and the limits."""

    hs256_secret: SecretStr | None = None
    jwks_url: str | None = None
    issuer: str | None = None
    audience: str | None = None
    leeway_s: float = 30.0
    jwks_cache_s: float = 3600.0
    max_token_bytes: int = 8192

    def __post_init__(self) -> None:
        if self.hs256_secret is not None:
            secret = self.hs256_secret.get_secret_value().encode("utf-8")
            if len(secret) < MIN_HS256_SECRET_BYTES:
                raise ValueError(f"the JWT secret needs at least {MIN_HS256_SECRET_BYTES} bytes")
            try:
                HMACAlgorithm(HMACAlgorithm.SHA256).prepare_key(secret)
            except jwt.InvalidKeyError:
                raise ValueError("the JWT secret must not be a PEM or SSH key") from None
        if self.leeway_s < 0 or self.jwks_cache_s < 0 or self.max_token_bytes < 1:
            raise ValueError("leeway and cache time must be >= 0, the token limit >= 1")

    @classmethod
    def from_settings(cls, settings: Settings) -> TokenConfig:
        """The ``MANGAASSIST_JWT_*`` settings."""
        return cls(
            hs256_secret=settings.jwt_secret,
            jwks_url=settings.jwt_jwks_url,
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
            leeway_s=settings.jwt_leeway_s,
        )

    @property
    def enabled(self) -> bool:
        """Whether any token can verify (a secret or a JWKS is configured)."""
        return self.hs256_secret is not None or self.jwks_url is not None


def bearer_token(authorization_header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (any case of the scheme)."""
    if authorization_header is None:
        return None
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def parse_jwks(document: bytes) -> dict[str, jwt.PyJWK]:
    """The RS256 signing keys of a JWKS document by ``kid``; other and weak keys are skipped.

    Raises:
        ValueError: the document is not a JWKS or holds no usable key.
    """
    parsed = json.loads(document)
    entries = parsed.get("keys") if isinstance(parsed, dict) else None
    if not isinstance(entries, list):
        raise ValueError("not a JWKS document")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not (
            isinstance(entry, dict)
            and entry.get("kty") == "RSA"
            and entry.get("alg", _RS256) == _RS256
            and entry.get("use", "sig") == "sig"
            and isinstance(entry.get("kid"), str)
        ):
            continue
        try:
            key = jwt.PyJWK(entry, algorithm=_RS256)
        except jwt.PyJWTError:
            continue
        if key.key.key_size >= MIN_RSA_KEY_BITS:
            keys[entry["kid"]] = key
    if not keys:
        raise ValueError("no usable RS256 key in the JWKS")
    return keys


def _audience_matches(claims: dict[str, Any], audience: str) -> bool:
    """``aud`` names ``audience``; or, for a Cognito access token without ``aud``, ``client_id``."""
    aud = claims.get("aud")
    if aud is None:
        return claims.get("token_use") == "access" and claims.get("client_id") == audience
    if isinstance(aud, str):
        return aud == audience
    return isinstance(aud, list) and audience in aud and all(isinstance(a, str) for a in aud)


def _token_error(exc: Exception) -> TokenError:
    """The safe :class:`TokenError` for a PyJWT (or decoding) exception."""
    match exc:
        case jwt.ExpiredSignatureError():
            return TokenError("TOKEN_EXPIRED", "expired")
        case jwt.ImmatureSignatureError():
            return TokenError("TOKEN_INVALID", "not yet valid")
        case jwt.InvalidSignatureError():
            return TokenError("TOKEN_INVALID", "bad signature")
        case jwt.InvalidIssuerError():
            return TokenError("TOKEN_INVALID", "wrong issuer")
        case jwt.InvalidAudienceError():
            return TokenError("TOKEN_INVALID", "wrong audience")
        case jwt.InvalidAlgorithmError():
            return TokenError("TOKEN_INVALID", "algorithm not allowed")
        case jwt.MissingRequiredClaimError(claim=claim) if claim in ("exp", "iss"):
            return TokenError("TOKEN_INVALID", f"missing {claim}")
        case jwt.InvalidKeyError():
            return TokenError("TOKEN_INVALID", "unusable key")
        case _:
            return TokenError("TOKEN_INVALID", "malformed")


class TokenVerifier:
    """Verifies bearer tokens against a :class:`TokenConfig` and returns their claims.

    JWKS keys are cached for ``jwks_cache_s``; a token with an unknown ``kid`` triggers a refetch
    (key rotation), but no two fetches start less than :data:`MIN_REFETCH_INTERVAL_S` apart, and
    a failed fetch keeps the cached keys. Concurrent verifies waiting for keys share one fetch.
    """

    def __init__(
        self,
        config: TokenConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._http = http
        self._owns_http = http is None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at: float | None = None
        self._attempted_at: float | None = None
        self._fetch_lock = asyncio.Lock()

    @property
    def _jwks_is_url(self) -> bool:
        return (self.config.jwks_url or "").startswith(("http://", "https://"))

    async def open(self) -> None:
        """Create the HTTP client of a JWKS URL, or load a JWKS file."""
        if self._jwks_is_url and self._http is None:
            self._http = httpx.AsyncClient(timeout=JWKS_FETCH_TIMEOUT_S, follow_redirects=False)
        elif self.config.jwks_url is not None and not self._jwks_is_url:
            await self._refresh_keys()

    async def close(self) -> None:
        """Close the HTTP client this verifier created."""
        if self._http is not None and self._owns_http:
            await self._http.aclose()
            self._http = None

    async def __aenter__(self) -> TokenVerifier:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of ``token`` once its signature, lifetime, issuer and audience check out.

        Raises:
            TokenError: for any token that is not valid, whatever the input.
        """
        if len(token) > self.config.max_token_bytes:
            raise TokenError("TOKEN_INVALID", "too long")
        if not token.isascii():  # below the limit in characters, so below it in bytes too
            raise TokenError("TOKEN_INVALID", "malformed")
        try:
            header = jwt.get_unverified_header(token)
            key = await self._key_for(header)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[_HS256 if isinstance(key, bytes) else _RS256],
                options={
                    "require": ["exp"],
                    "verify_aud": False,  # checked below, with Cognito's client_id rule
                    "enforce_minimum_key_length": True,
                },
                issuer=self.config.issuer,
                leeway=self.config.leeway_s,
            )
        # PyJWT raises its own exceptions; the others are a net so no input ever becomes a 500.
        except (jwt.PyJWTError, ValueError, TypeError, OverflowError, RecursionError) as exc:
            raise _token_error(exc) from None
        audience = self.config.audience
        if audience is not None and not _audience_matches(claims, audience):
            raise TokenError("TOKEN_INVALID", "wrong audience")
        return claims

    async def _key_for(self, header: dict[str, Any]) -> bytes | jwt.PyJWK:
        """The key the token's algorithm is allowed to use: the secret, or the JWKS key."""
        alg = header.get("alg")
        if alg == _HS256 and self.config.hs256_secret is not None:
            return self.config.hs256_secret.get_secret_value().encode("utf-8")
        if alg == _RS256 and self.config.jwks_url is not None:
            kid = header.get("kid")
            if not isinstance(kid, str):
                raise TokenError("TOKEN_INVALID", "unknown key id")
            return await self._jwks_key(kid)
        raise TokenError("TOKEN_INVALID", "algorithm not allowed")

    async def _jwks_key(self, kid: str) -> jwt.PyJWK:
        if self._loaded_at is None or self._clock() - self._loaded_at >= self.config.jwks_cache_s:
            await self._refresh_keys()
        if kid not in self._keys:
            await self._refresh_keys()
        if not self._keys:
            raise TokenError("TOKEN_INVALID", "signing keys unavailable")
        try:
            return self._keys[kid]
        except KeyError:
            raise TokenError("TOKEN_INVALID", "unknown key id") from None

    async def _refresh_keys(self) -> None:
        """Fetch the JWKS unless a fetch ended lately; callers waiting meanwhile share its result.

        The fetch runs under a lock and the throttle is checked inside it, so verifies that queue
        up during a fetch find it just done and return. A cancelled fetch records nothing, so the
        next caller retries.
        """
        async with self._fetch_lock:
            last = self._attempted_at
            if last is not None and self._clock() - last < MIN_REFETCH_INTERVAL_S:
                return
            keys = await self._load_jwks()
            self._attempted_at = self._clock()
            if keys is not None:
                self._keys = keys
                self._loaded_at = self._attempted_at

    async def _load_jwks(self) -> dict[str, jwt.PyJWK] | None:
        """The JWKS keys, or None (logged) when they cannot be fetched or parsed."""
        source = self.config.jwks_url or ""
        try:
            if self._jwks_is_url:
                document = await self._download(source)
            else:
                path = Path(source.removeprefix("file://"))
                document = await asyncio.to_thread(path.read_bytes)
            return parse_jwks(document)
        except (httpx.HTTPError, OSError, ValueError, RecursionError) as exc:
            # A URL's host only: a URL may carry credentials, and the operator knows the rest.
            where = httpx.URL(source).host if self._jwks_is_url else source
            log.warning("jwks_unavailable", source=where, error=type(exc).__name__)
            return None

    async def _download(self, url: str) -> bytes:
        if self._http is None:  # verify() before open(): still work, with our own client
            await self.open()
        assert self._http is not None
        async with self._http.stream("GET", url, headers={"accept": "application/json"}) as r:
            r.raise_for_status()
            chunks: list[bytes] = []
            size = 0
            async for chunk in r.aiter_bytes():
                size += len(chunk)
                if size > MAX_JWKS_BYTES:
                    raise ValueError("JWKS document too large")
                chunks.append(chunk)
        return b"".join(chunks)
