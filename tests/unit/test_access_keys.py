"""API keys: format, hashing, constant-time verification, and secrets kept out of reprs."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mangaassist.access.keyring import MemoryKeyStore, authenticate
from mangaassist.access.keys import (
    KEY_PREFIX,
    PREFIX_LENGTH,
    generate_key,
    hash_secret,
    parse_key,
    verify,
)

PEPPER = b"server-pepper"


def test_generated_key_round_trips_through_parse_and_verify() -> None:
    issued = generate_key()
    assert issued.api_key.startswith(KEY_PREFIX)
    assert parse_key(issued.api_key) == (issued.prefix, issued.secret_plaintext)
    assert len(issued.prefix) == PREFIX_LENGTH
    assert verify(issued.secret_plaintext, issued.hash)
    assert issued.secret_plaintext not in issued.hash


def test_keys_are_unique() -> None:
    keys = {generate_key().api_key for _ in range(200)}
    assert len(keys) == 200


def test_wrong_secret_and_unknown_scheme_do_not_verify() -> None:
    issued = generate_key()
    other = generate_key()
    assert not verify(other.secret_plaintext, issued.hash)
    assert not verify(issued.secret_plaintext, "md5$" + issued.hash.partition("$")[2])
    assert not verify(issued.secret_plaintext, "")


def test_pepper_makes_an_hmac_that_needs_the_pepper() -> None:
    issued = generate_key(PEPPER)
    assert issued.hash.startswith("hmac-sha256$")
    assert issued.hash.partition("$")[2] != hash_secret(issued.secret_plaintext).partition("$")[2]
    assert verify(issued.secret_plaintext, issued.hash, PEPPER)
    assert not verify(issued.secret_plaintext, issued.hash)
    assert not verify(issued.secret_plaintext, issued.hash, b"another pepper")


def test_unpeppered_hashes_still_verify_once_a_pepper_is_configured() -> None:
    issued = generate_key()
    assert verify(issued.secret_plaintext, issued.hash, PEPPER)


@pytest.mark.parametrize("padding", [" ", "\t", "\n", "  \r\n"])
def test_parse_forgives_surrounding_whitespace(padding: str) -> None:
    issued = generate_key()
    assert parse_key(f"{padding}{issued.api_key}{padding}") == (
        issued.prefix,
        issued.secret_plaintext,
    )


def test_parse_is_strict_about_the_format() -> None:
    key = generate_key().api_key
    assert parse_key(None) is None
    assert parse_key("") is None
    assert parse_key(key[:-1]) is None  # secret one character short
    assert parse_key(key + "A") is None  # one too long
    assert parse_key(key.replace("mk_live_", "mk_test_")) is None
    assert parse_key(key.replace("mk_live_", "MK_LIVE_")) is None
    assert parse_key(key[:8] + key[8:16].upper() + key[16:]) is None  # prefix must be lowercase
    assert parse_key(key[:20] + " " + key[21:]) is None  # inner whitespace
    assert parse_key(f"Bearer {key}") is None


@given(st.text(max_size=120))
def test_parse_never_raises_on_arbitrary_text(value: str) -> None:
    result = parse_key(value)
    if result is not None:
        prefix, secret = result
        assert value.strip() == f"{KEY_PREFIX}{prefix}_{secret}"


@given(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz234567ABC_- ", max_size=12),
    st.text(alphabet="ABCxyz019_-= +/", max_size=50),
)
def test_parse_of_near_keys_returns_none_or_a_valid_pair(prefix: str, secret: str) -> None:
    result = parse_key(f"{KEY_PREFIX}{prefix}_{secret}")
    if result is not None:
        parsed_prefix, parsed_secret = result
        assert len(parsed_prefix) == PREFIX_LENGTH
        assert parsed_prefix.isalnum()
        assert parsed_prefix == parsed_prefix.lower()
        assert len(parsed_secret) == 43
        assert set(parsed_secret) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
        )


async def test_secrets_never_appear_in_repr_or_str() -> None:
    store = MemoryKeyStore(pepper=PEPPER)
    record, issued = await store.create("partner", "standard")
    for shown in (repr(issued), str(issued), repr(record), str(record), repr(store)):
        assert issued.secret_plaintext not in shown
        assert issued.api_key not in shown
        assert issued.hash not in shown
    assert issued.prefix in repr(issued)
    assert record.prefix in repr(record)
    # and the store keeps no clear secret anywhere
    assert issued.secret_plaintext not in repr(vars(store))


async def test_memory_store_create_lookup_list_revoke() -> None:
    moments = iter(datetime(2025, 1, 1, 0, minute, tzinfo=UTC) for minute in range(10))
    store = MemoryKeyStore(clock=lambda: next(moments))
    first, _ = await store.create("first", "standard")
    second, issued = await store.create("second", "standard")

    assert await store.lookup_by_prefix(second.prefix) == second
    assert [r.name for r in await store.list()] == ["first", "second"]
    assert await store.lookup_by_prefix("zzzzzzzz") is None

    revoked = await store.revoke(first.prefix)
    assert revoked is not None
    assert not revoked.active
    again = await store.revoke(first.prefix)
    assert again is not None
    assert again.revoked_at == revoked.revoked_at
    assert await store.revoke("zzzzzzzz") is None

    used_at = datetime(2025, 1, 2, tzinfo=UTC)
    await store.mark_used(second.prefix, used_at)
    found = await store.lookup_by_prefix(second.prefix)
    assert found is not None
    assert found.last_used_at == used_at
    assert issued.prefix == second.prefix


async def test_authenticate_accepts_only_an_active_key_with_its_secret() -> None:
    store = MemoryKeyStore(pepper=PEPPER)
    record, issued = await store.create("partner", "standard")
    _, other = await store.create("other", "standard")

    assert await authenticate(store, f" {issued.api_key} ", pepper=PEPPER) == record
    assert await authenticate(store, issued.api_key) is None  # pepper missing
    forged = f"{KEY_PREFIX}{issued.prefix}_{other.secret_plaintext}"
    assert await authenticate(store, forged, pepper=PEPPER) is None
    assert await authenticate(store, "not a key", pepper=PEPPER) is None
    assert await authenticate(store, None, pepper=PEPPER) is None

    await store.revoke(record.prefix)
    assert await authenticate(store, issued.api_key, pepper=PEPPER) is None
