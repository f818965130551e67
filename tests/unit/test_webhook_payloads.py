"""Reading webhook payloads: amounts in the right unit, reviews cut between graphemes, and the
idempotency key that stays the same on every retry of a delivery."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
import regex

from mangaassist.webhooks.payload import MalformedJsonError, idempotency_key, parse_payload
from mangaassist.webhooks.payments import to_major_units
from mangaassist.webhooks.reviews import truncate_graphemes
from mangaassist.webhooks.sources import WebhookSource


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1500, "jpy", 1500),  # ¥1500: JPY is zero-decimal
        (1500, "KRW", 1500),
        (1999, "usd", 19.99),
        (2000, "EUR", 20),
        (1230, "kwd", 1.23),  # thousandths
        (0, "jpy", 0),
    ],
)
def test_stripe_amounts_become_the_currencys_own_units(
    amount: int, currency: str, expected: float
) -> None:
    assert to_major_units(amount, currency) == expected


def _graphemes(text: str) -> list[str]:
    return regex.findall(r"\X", text)


@pytest.mark.parametrize(
    "tail",
    [
        "👨‍👩‍👧‍👦",  # ZWJ family: seven code points
        "🇯🇵",  # a flag: two regional indicators
        "が",  # か + combining dakuten
        "𠮷",  # outside the BMP
        "👍🏽",  # emoji with a skin tone modifier
    ],
)
def test_a_review_is_cut_between_graphemes_within_the_schemas_length(tail: str) -> None:
    text = "あ" * 1999 + tail + "続き"

    cut = truncate_graphemes(text, 2000)

    assert len(cut) <= 2000
    assert text.startswith(cut)
    # Nothing was split: the cut is whole graphemes of the original.
    assert _graphemes(cut) == _graphemes(text)[: len(_graphemes(cut))]
    assert cut in ("あ" * 1999, "あ" * 1999 + tail)


def test_a_short_review_is_kept_whole() -> None:
    assert truncate_graphemes("最高！👍", 2000) == "最高！👍"


def _source(scheme: str, handler: str) -> WebhookSource:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    return WebhookSource.model_validate({"scheme": scheme, "secrets": [secret], "handler": handler})


@pytest.mark.parametrize(
    ("scheme", "handler", "headers", "payload", "key"),
    [
        ("stripe", "stripe", {}, {"id": "evt_1"}, "evt_1"),
        ("hmac-sha256", "reviews", {}, {"review_id": 42}, "42"),
        ("hmac-sha256", "catalog", {}, {"batch_id": "b-7"}, "b-7"),
        ("github", "none", {"X-GitHub-Delivery": "72d3162e"}, {"id": "x"}, "72d3162e"),
        ("standard", "reviews", {"Webhook-Id": "msg_1"}, {"review_id": "r"}, "msg_1"),
        ("standard", "reviews", {}, {"review_id": "r-9"}, "r-9"),
    ],
)
def test_the_key_is_the_senders_delivery_id_else_the_payloads_own_id(
    scheme: str, handler: str, headers: dict[str, str], payload: dict[str, Any], key: str
) -> None:
    assert idempotency_key(_source(scheme, handler), headers, payload, b"{}") == key


def test_without_an_id_the_key_is_the_hash_of_the_raw_body_the_same_on_a_retry() -> None:
    body = b'{"text": "no id"}'
    source = _source("hmac-sha256", "reviews")

    first = idempotency_key(source, {"X-Request-Id": "a"}, {"text": "no id"}, body)
    retry = idempotency_key(source, {"X-Request-Id": "b"}, {"text": "no id"}, body)

    assert first == retry == "sha256:" + hashlib.sha256(body).hexdigest()


def test_a_key_too_long_to_store_is_stored_as_its_hash() -> None:
    key = idempotency_key(_source("stripe", "stripe"), {}, {"id": "e" * 500}, b"{}")
    assert key == "sha256:" + hashlib.sha256(b"e" * 500).hexdigest()


@pytest.mark.parametrize("body", [b'{"a": ', b"\xff\xfe{}", b'{"a": NaN}', b"[" * 100_000, b""])
def test_bodies_that_are_not_json_are_malformed(body: bytes) -> None:
    with pytest.raises(MalformedJsonError):
        parse_payload(body)


def test_json_bodies_parse_whatever_their_utf_encoding() -> None:
    assert parse_payload('{"text": "最高"}'.encode()) == {"text": "最高"}
    assert parse_payload('{"text": "最高"}'.encode("utf-16")) == {"text": "最高"}
