"""JWT bearer tokens: HS256 and RS256 (JWKS file) verification, refusals, and bearer parsing."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from hypothesis import given, settings
from hypothesis import strategies as st
from jwt.algorithms import RSAAlgorithm
from pydantic import SecretStr

from mangaassist.access.tokens import (
    MIN_REFETCH_INTERVAL_S,
    TokenConfig,
    TokenError,
    TokenVerifier,
    bearer_token,
)
from mangaassist.settings import Settings

SECRET = "self-hosted-issuer-secret-of-64-bytes-so-even-hs512-signs-cleanly"
ISSUER = "https://issuer.example"
AUDIENCE = "shop-app"
KID = "key-2024"
#: Every reason a refusal may give; anything else would be a leak or a new, undocumented case.
REASONS = {
    "bad signature",
    "wrong issuer",
    "wrong audience",
    "expired",
    "not yet valid",
    "malformed",
    "unknown key id",
    "algorithm not allowed",
    "signing keys unavailable",
    "too long",
    "missing exp",
    "missing iss",
    "unusable key",
}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _hmac_token(header: dict[str, Any], payload: bytes, key: bytes) -> str:
    """A token signed by hand with HMAC-SHA-256, whatever the header claims or the key is."""
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(payload)}"
    signature = hmac.new(key, signing_input.encode("ascii"), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
    }
    claims.update(overrides)
    return {name: value for name, value in claims.items() if value is not None}


def _hs256(claims: dict[str, Any], secret: str = SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _rs256(claims: dict[str, Any], key: rsa.RSAPrivateKey, kid: str | None = KID) -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims, key, algorithm="RS256", headers=headers)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


def _public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _write_jwks(path: Path, *keys: tuple[rsa.RSAPrivateKey, str]) -> Path:
    path.write_text(json.dumps({"keys": [_jwk(key, kid) for key, kid in keys]}))
    return path


def _config(**overrides: Any) -> TokenConfig:
    values: dict[str, Any] = {
        "hs256_secret": SecretStr(SECRET),
        "issuer": ISSUER,
        "audience": AUDIENCE,
        **overrides,
    }
    return TokenConfig(**values)


async def _refusal(verifier: TokenVerifier, token: str) -> TokenError:
    with pytest.raises(TokenError) as caught:
        await verifier.verify(token)
    assert caught.value.reason in REASONS
    assert token not in str(caught.value) or len(token) < 8
    assert SECRET not in str(caught.value)
    return caught.value


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def other_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
async def hs_verifier() -> AsyncIterator[TokenVerifier]:
    async with TokenVerifier(_config()) as verifier:
        yield verifier


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def rs_verifier(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, clock: FakeClock
) -> AsyncIterator[TokenVerifier]:
    jwks = _write_jwks(tmp_path / "jwks.json", (rsa_key, KID))
    async with TokenVerifier(_config(hs256_secret=None, jwks_url=str(jwks)), clock=clock) as v:
        yield v


# --- HS256 -----------------------------------------------------------------------------------


async def test_valid_hs256_token_returns_its_claims(hs_verifier: TokenVerifier) -> None:
    claims = _claims(scope="orders")
    assert await hs_verifier.verify(_hs256(claims)) == claims


async def test_expired_token_is_refused_as_expired(hs_verifier: TokenVerifier) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(exp=int(time.time()) - 120)))
    assert (error.code, error.reason) == ("TOKEN_EXPIRED", "expired")


async def test_token_expired_within_the_leeway_still_verifies(hs_verifier: TokenVerifier) -> None:
    claims = _claims(exp=int(time.time()) - 10)
    assert await hs_verifier.verify(_hs256(claims)) == claims


async def test_leeway_zero_refuses_the_same_token() -> None:
    async with TokenVerifier(_config(leeway_s=0)) as verifier:
        error = await _refusal(verifier, _hs256(_claims(exp=int(time.time()) - 10)))
    assert error.code == "TOKEN_EXPIRED"


@pytest.mark.parametrize("claim", ["nbf", "iat"])
async def test_token_valid_only_in_the_future_is_refused(
    hs_verifier: TokenVerifier, claim: str
) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(**{claim: int(time.time()) + 120})))
    assert (error.code, error.reason) == ("TOKEN_INVALID", "not yet valid")


async def test_nbf_within_the_leeway_verifies(hs_verifier: TokenVerifier) -> None:
    claims = _claims(nbf=int(time.time()) + 10)
    assert await hs_verifier.verify(_hs256(claims)) == claims


async def test_wrong_issuer_is_refused(hs_verifier: TokenVerifier) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(iss="https://evil.example")))
    assert error.reason == "wrong issuer"


async def test_wrong_audience_is_refused(hs_verifier: TokenVerifier) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(aud="another-app")))
    assert error.reason == "wrong audience"


async def test_audience_list_naming_ours_verifies(hs_verifier: TokenVerifier) -> None:
    claims = _claims(aud=["billing", AUDIENCE])
    assert await hs_verifier.verify(_hs256(claims)) == claims


async def test_unconfigured_issuer_and_audience_are_not_checked() -> None:
    claims = _claims(iss="anyone", aud="anything")
    async with TokenVerifier(TokenConfig(hs256_secret=SecretStr(SECRET))) as verifier:
        assert await verifier.verify(_hs256(claims)) == claims


async def test_token_signed_with_another_secret_has_a_bad_signature(
    hs_verifier: TokenVerifier,
) -> None:
    token = _hs256(_claims(), secret="another-secret-of-at-least-32-bytes!!")
    error = await _refusal(hs_verifier, token)
    assert error.reason == "bad signature"


async def test_tampered_payload_has_a_bad_signature(hs_verifier: TokenVerifier) -> None:
    header, _, signature = _hs256(_claims()).split(".")
    forged = _b64(json.dumps(_claims(sub="admin")).encode())
    error = await _refusal(hs_verifier, f"{header}.{forged}.{signature}")
    assert error.reason == "bad signature"


async def test_alg_none_is_refused(hs_verifier: TokenVerifier) -> None:
    token = jwt.encode(_claims(), "", algorithm="none")
    error = await _refusal(hs_verifier, token)
    assert (error.code, error.reason) == ("TOKEN_INVALID", "algorithm not allowed")


async def test_hs512_token_is_refused_even_with_the_right_secret(
    hs_verifier: TokenVerifier,
) -> None:
    token = jwt.encode(_claims(), SECRET, algorithm="HS512")
    assert (await _refusal(hs_verifier, token)).reason == "algorithm not allowed"


async def test_token_without_exp_is_refused(hs_verifier: TokenVerifier) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(exp=None)))
    assert (error.code, error.reason) == ("TOKEN_INVALID", "missing exp")


async def test_token_without_iss_is_refused_when_an_issuer_is_configured(
    hs_verifier: TokenVerifier,
) -> None:
    assert (await _refusal(hs_verifier, _hs256(_claims(iss=None)))).reason == "missing iss"


async def test_too_long_token_is_refused_before_parsing(hs_verifier: TokenVerifier) -> None:
    error = await _refusal(hs_verifier, "a" * 8193)
    assert error.reason == "too long"
    padded = _hs256(_claims(padding="x" * 9000))
    assert (await _refusal(hs_verifier, padded)).reason == "too long"


async def test_token_limit_is_configurable() -> None:
    token = _hs256(_claims())
    async with TokenVerifier(_config(max_token_bytes=len(token) - 1)) as verifier:
        assert (await _refusal(verifier, token)).reason == "too long"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "é.é.é", "\ud800.x.y"])
async def test_garbage_is_malformed(hs_verifier: TokenVerifier, token: str) -> None:
    error = await _refusal(hs_verifier, token)
    assert (error.code, error.reason) == ("TOKEN_INVALID", "malformed")


async def test_no_token_verifies_when_nothing_is_configured() -> None:
    async with TokenVerifier(TokenConfig()) as verifier:
        assert (await _refusal(verifier, _hs256(_claims()))).reason == "algorithm not allowed"


# --- Cognito access tokens -------------------------------------------------------------------


async def test_cognito_access_token_client_id_stands_for_the_audience(
    hs_verifier: TokenVerifier,
) -> None:
    claims = _claims(aud=None, token_use="access", client_id=AUDIENCE)
    assert await hs_verifier.verify(_hs256(claims)) == claims


@pytest.mark.parametrize(
    "overrides",
    [
        {"aud": None, "token_use": "access", "client_id": "another-app"},
        {"aud": None, "token_use": "id", "client_id": AUDIENCE},
        {"aud": None, "client_id": AUDIENCE},
        {"aud": "another-app", "token_use": "access", "client_id": AUDIENCE},
        {"aud": None},
    ],
    ids=["wrong-client", "id-token", "no-token-use", "aud-wins", "no-aud"],
)
async def test_client_id_rule_applies_only_to_access_tokens_without_aud(
    hs_verifier: TokenVerifier, overrides: dict[str, Any]
) -> None:
    error = await _refusal(hs_verifier, _hs256(_claims(**overrides)))
    assert error.reason == "wrong audience"


# --- RS256 with a JWKS file ------------------------------------------------------------------


async def test_rs256_token_verifies_with_the_jwks_file(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    claims = _claims()
    assert await rs_verifier.verify(_rs256(claims, rsa_key)) == claims


async def test_rs256_token_of_another_key_with_our_kid_has_a_bad_signature(
    rs_verifier: TokenVerifier, other_rsa_key: rsa.RSAPrivateKey
) -> None:
    error = await _refusal(rs_verifier, _rs256(_claims(), other_rsa_key))
    assert error.reason == "bad signature"


@pytest.mark.parametrize("kid", ["unknown", None])
async def test_rs256_token_with_an_unknown_or_no_kid_is_refused(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey, kid: str | None
) -> None:
    error = await _refusal(rs_verifier, _rs256(_claims(), rsa_key, kid=kid))
    assert error.reason == "unknown key id"


async def test_rs256_checks_expiry_issuer_and_audience_too(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    expired = _rs256(_claims(exp=int(time.time()) - 120), rsa_key)
    assert (await _refusal(rs_verifier, expired)).code == "TOKEN_EXPIRED"
    foreign = _rs256(_claims(iss="https://evil.example"), rsa_key)
    assert (await _refusal(rs_verifier, foreign)).reason == "wrong issuer"


async def test_hs256_token_is_refused_when_only_a_jwks_is_configured(
    rs_verifier: TokenVerifier,
) -> None:
    assert (await _refusal(rs_verifier, _hs256(_claims()))).reason == "algorithm not allowed"


async def test_rs512_token_is_refused_even_with_a_known_key(
    rs_verifier: TokenVerifier, rsa_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(_claims(), rsa_key, algorithm="RS512", headers={"kid": KID})
    assert (await _refusal(rs_verifier, token)).reason == "algorithm not allowed"


@pytest.mark.parametrize("with_secret", [False, True], ids=["jwks-only", "jwks-and-secret"])
@pytest.mark.parametrize("header_alg", ["HS256", "RS256"])
async def test_algorithm_confusion_with_the_rsa_public_key_as_hmac_secret_is_refused(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey, with_secret: bool, header_alg: str
) -> None:
    # Given a verifier holding the RSA public key, which an attacker can download
    jwks = _write_jwks(tmp_path / "jwks.json", (rsa_key, KID))
    secret = SecretStr(SECRET) if with_secret else None
    public_pem = _public_pem(rsa_key)
    # When the attacker signs a token with HMAC keyed by that PEM
    header = {"alg": header_alg, "typ": "JWT", "kid": KID}
    token = _hmac_token(header, json.dumps(_claims(sub="admin")).encode(), public_pem)
    # Then it is refused
    async with TokenVerifier(_config(hs256_secret=secret, jwks_url=str(jwks))) as verifier:
        error = await _refusal(verifier, token)
    # (HS256 is tried with the configured secret only; RS256 with the RSA key only)
    hs256_without_secret = header_alg == "HS256" and not with_secret
    assert error.reason == ("algorithm not allowed" if hs256_without_secret else "bad signature")


async def test_jwks_file_is_reloaded_on_an_unknown_kid_at_most_once_a_minute(
    tmp_path: Path,
    rsa_key: rsa.RSAPrivateKey,
    other_rsa_key: rsa.RSAPrivateKey,
    clock: FakeClock,
) -> None:
    # Given a verifier that loaded a JWKS file with one key
    jwks = _write_jwks(tmp_path / "jwks.json", (rsa_key, KID))
    config = _config(hs256_secret=None, jwks_url=str(jwks))
    async with TokenVerifier(config, clock=clock) as verifier:
        # When the file gains a rotated key
        _write_jwks(jwks, (rsa_key, KID), (other_rsa_key, "key-2025"))
        rotated = _rs256(_claims(), other_rsa_key, kid="key-2025")
        # Then the new kid is unknown until the refetch interval has passed
        clock.now += 1
        assert (await _refusal(verifier, rotated)).reason == "unknown key id"
        clock.now += MIN_REFETCH_INTERVAL_S
        assert await verifier.verify(rotated) == jwt.decode(
            rotated, options={"verify_signature": False}
        )


async def test_unreadable_jwks_file_means_signing_keys_unavailable(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    config = _config(hs256_secret=None, jwks_url=str(tmp_path / "missing.json"))
    async with TokenVerifier(config) as verifier:
        error = await _refusal(verifier, _rs256(_claims(), rsa_key))
    assert (error.code, error.reason) == ("TOKEN_INVALID", "signing keys unavailable")


async def test_jwks_keys_for_other_algorithms_or_too_weak_are_ignored(
    tmp_path: Path, rsa_key: rsa.RSAPrivateKey
) -> None:
    weak = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    with pytest.warns(jwt.InsecureKeyLengthWarning):
        weak_token = _rs256(_claims(), weak, kid="weak")
    keys = [
        {**_jwk(rsa_key, "rs512"), "alg": "RS512"},
        {**_jwk(rsa_key, "enc"), "use": "enc"},
        _jwk(weak, "weak"),
        {"kty": "oct", "kid": "hmac", "k": _b64(SECRET.encode())},
    ]
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": keys}))
    config = _config(hs256_secret=None, jwks_url=str(tmp_path / "jwks.json"))
    async with TokenVerifier(config) as verifier:
        error = await _refusal(verifier, weak_token)
        assert error.reason == "signing keys unavailable"
        hmac_token = jwt.encode(_claims(), SECRET, algorithm="HS256", headers={"kid": "hmac"})
        assert (await _refusal(verifier, hmac_token)).reason == "algorithm not allowed"


# --- configuration ---------------------------------------------------------------------------


def test_config_from_settings_and_enabled() -> None:
    settings = Settings(
        jwt_secret=SecretStr(SECRET),
        jwt_issuer=ISSUER,
        jwt_audience=AUDIENCE,
        jwt_leeway_s=5,
    )
    config = TokenConfig.from_settings(settings)
    assert config.enabled
    assert (config.issuer, config.audience, config.leeway_s) == (ISSUER, AUDIENCE, 5)
    assert SECRET not in repr(config)
    assert not TokenConfig.from_settings(Settings()).enabled
    assert TokenConfig(jwks_url="/etc/jwks.json").enabled


@pytest.mark.parametrize("secret", ["short", "pem"])
def test_weak_or_pem_secret_is_refused_at_configuration(
    secret: str, rsa_key: rsa.RSAPrivateKey
) -> None:
    if secret == "pem":
        secret = _public_pem(rsa_key).decode("ascii")
    with pytest.raises(ValueError, match="JWT secret") as caught:
        TokenConfig(hs256_secret=SecretStr(secret))
    assert secret not in str(caught.value)


# --- bearer_token ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("BEARER   abc.def.ghi  ", "abc.def.ghi"),
        ("Basic dXNlcjpwYXNz", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("Bearer a b", None),
        ("Bearerabc", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token(header: str | None, expected: str | None) -> None:
    assert bearer_token(header) == expected


# --- any input -------------------------------------------------------------------------------

#: Any text, lone surrogates (which no UTF-8 encoder takes) and control characters included.
_text = st.text(max_size=400) | st.text(st.characters(categories=["Cs", "Cc", "Po"]), max_size=40)
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_headers = st.fixed_dictionaries(
    {"alg": st.sampled_from(["HS256", "RS256", "none", "HS512", "ES256", ""]) | _json},
    optional={
        "kid": st.sampled_from([KID, "other"]) | _json,
        "crit": _json,
        "b64": _json,
        "typ": _json,
    },
)
_claim_sets = st.dictionaries(
    st.sampled_from(["exp", "nbf", "iat", "iss", "aud", "sub", "jti", "token_use", "client_id"]),
    _json,
)
_segments = st.lists(st.binary(max_size=300).map(_b64), min_size=1, max_size=5).map(".".join)
_headed_segments = st.tuples(_headers, st.lists(st.binary(max_size=300), max_size=3)).map(
    lambda parts: ".".join(
        [_b64(json.dumps(parts[0]).encode()), *(_b64(segment) for segment in parts[1])]
    )
)
_signed_claims = st.tuples(_headers, _claim_sets).map(
    lambda parts: _hmac_token(parts[0], json.dumps(parts[1]).encode(), SECRET.encode())
)


@pytest.fixture(scope="module")
def fuzz_config(
    tmp_path_factory: pytest.TempPathFactory, rsa_key: rsa.RSAPrivateKey
) -> TokenConfig:
    jwks = _write_jwks(tmp_path_factory.mktemp("fuzz") / "jwks.json", (rsa_key, KID))
    return _config(jwks_url=str(jwks))


@settings(max_examples=300, deadline=None)
@given(token=_text | _segments | _headed_segments | _signed_claims)
def test_any_input_raises_only_token_error(fuzz_config: TokenConfig, token: str) -> None:
    async def verify_once() -> TokenError | None:
        async with TokenVerifier(fuzz_config, clock=FakeClock()) as verifier:
            try:
                await verifier.verify(token)
            except TokenError as error:
                return error
        return None

    error = asyncio.run(verify_once())
    if error is not None:
        assert error.code in ("TOKEN_INVALID", "TOKEN_EXPIRED")
        assert error.reason in REASONS
