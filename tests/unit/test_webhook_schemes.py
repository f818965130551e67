"""Inbound webhook signature schemes: the published vectors, and everything they refuse."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

import pytest

from mangaassist.webhooks.schemes import (
    SIGNATURE_INVALID,
    SIGNATURE_MISSING,
    TIMESTAMP_INVALID,
    TIMESTAMP_STALE,
    WebhookAuthError,
    github_signature,
    hmac_sha256_signature,
    stripe_signature_header,
    verify_github,
    verify_hmac_sha256,
    verify_standard,
    verify_stripe,
)
from mangaassist.webhooks.signing import InvalidSignatureError, new_secret, sign

NOW = 1_800_000_000
STRIPE_SECRET = "whsec_test_9f8e7d6c5b4a"  # Stripe keys with the whole string, prefix included
STRIPE_BODY = b'{"id":"evt_1","type":"checkout.session.completed","data":{"object":{}}}'


def _refused(code: str, verify: Callable[[], None]) -> None:
    with pytest.raises(WebhookAuthError) as refused:
        verify()
    assert refused.value.code == code
    assert isinstance(refused.value, InvalidSignatureError)  # callers of signing.py catch it


# -- GitHub ------------------------------------------------------------------------------------

# The example of GitHub's "Validating webhook deliveries".
GITHUB_SECRET = "It's a Secret to Everybody"
GITHUB_BODY = b"Hello, World!"
GITHUB_SIGNATURE = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"


def test_githubs_published_example_verifies() -> None:
    assert github_signature(GITHUB_SECRET, GITHUB_BODY) == GITHUB_SIGNATURE
    verify_github({"X-Hub-Signature-256": GITHUB_SIGNATURE}, GITHUB_BODY, [GITHUB_SECRET])


@pytest.mark.parametrize(
    ("headers", "body", "code"),
    [
        ({"X-Hub-Signature-256": GITHUB_SIGNATURE}, b"Hello, World?", SIGNATURE_INVALID),
        ({"X-Hub-Signature-256": GITHUB_SIGNATURE[7:]}, GITHUB_BODY, SIGNATURE_INVALID),
        ({"X-Hub-Signature": "sha1=0123"}, GITHUB_BODY, SIGNATURE_MISSING),
        ({"X-Hub-Signature-256": ""}, GITHUB_BODY, SIGNATURE_MISSING),
    ],
)
def test_github_refuses_a_changed_body_a_bare_hex_or_no_header(
    headers: dict[str, str], body: bytes, code: str
) -> None:
    _refused(code, lambda: verify_github(headers, body, [GITHUB_SECRET]))


def test_github_refuses_a_wrong_secret_and_accepts_either_secret_during_rotation() -> None:
    headers = {"x-hub-signature-256": GITHUB_SIGNATURE}
    _refused(SIGNATURE_INVALID, lambda: verify_github(headers, GITHUB_BODY, ["other"]))
    verify_github(headers, GITHUB_BODY, ["new secret", GITHUB_SECRET])


# -- Standard Webhooks -------------------------------------------------------------------------

# The test vector of the Standard Webhooks specification.
STD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
STD_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
STD_TIMESTAMP = 1614265330
STD_BODY = b'{"test": 2432232314}'
STD_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _std_headers(signature: str = STD_SIGNATURE, timestamp: int = STD_TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": STD_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_the_standard_webhooks_vector_verifies() -> None:
    verify_standard(_std_headers(), STD_BODY, [STD_SECRET], now=STD_TIMESTAMP + 299)


def test_standard_webhooks_rotation_old_and_new_secret_both_verify() -> None:
    new = new_secret()
    both = f"{sign(new, STD_ID, STD_TIMESTAMP, STD_BODY)} {STD_SIGNATURE}"
    verify_standard(_std_headers(both), STD_BODY, [new, STD_SECRET], now=STD_TIMESTAMP)
    verify_standard(_std_headers(both), STD_BODY, [STD_SECRET], now=STD_TIMESTAMP)
    verify_standard(_std_headers(both), STD_BODY, [new], now=STD_TIMESTAMP)
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_standard(_std_headers(), STD_BODY, [new], now=STD_TIMESTAMP),
    )


@pytest.mark.parametrize(
    ("headers", "body", "now", "code"),
    [
        (_std_headers(), b'{"test": 2432232315}', STD_TIMESTAMP, SIGNATURE_INVALID),
        (_std_headers(), STD_BODY, STD_TIMESTAMP + 301, TIMESTAMP_STALE),
        (_std_headers(), STD_BODY, STD_TIMESTAMP - 301, TIMESTAMP_STALE),
        (_std_headers(timestamp=STD_TIMESTAMP + 1), STD_BODY, STD_TIMESTAMP, SIGNATURE_INVALID),
        (
            {**_std_headers(), "webhook-timestamp": "soon"},
            STD_BODY,
            STD_TIMESTAMP,
            TIMESTAMP_INVALID,
        ),
        (
            {"webhook-id": STD_ID, "webhook-timestamp": "1"},
            STD_BODY,
            STD_TIMESTAMP,
            SIGNATURE_MISSING,
        ),
    ],
)
def test_standard_webhooks_refuses_tampering_replays_and_missing_headers(
    headers: dict[str, str], body: bytes, now: int, code: str
) -> None:
    _refused(code, lambda: verify_standard(headers, body, [STD_SECRET], now=now))


def test_a_stale_forgery_is_told_its_signature_is_invalid_not_that_it_is_late() -> None:
    forged = _std_headers("v1," + "A" * 43 + "=")
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_standard(forged, STD_BODY, [STD_SECRET], now=STD_TIMESTAMP + 10_000),
    )


# -- Stripe ------------------------------------------------------------------------------------


def _by_hand(secret: str, timestamp: int, body: bytes) -> str:
    """Stripe's scheme computed as its documentation states it, independently of the code."""
    signed_payload = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode("utf-8"), signed_payload, hashlib.sha256).hexdigest()


def test_stripes_scheme_computed_by_hand_verifies() -> None:
    header = f"t={NOW},v1={_by_hand(STRIPE_SECRET, NOW, STRIPE_BODY)}"
    assert stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, NOW) == header
    verify_stripe({"Stripe-Signature": header}, STRIPE_BODY, [STRIPE_SECRET], now=NOW + 300)


def test_stripe_keys_with_the_whole_secret_not_its_base64_decoding() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    decoded_key = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # what a wrong verifier would key with
    header = f"t={NOW},v1={_by_hand(decoded_key, NOW, STRIPE_BODY)}"
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_stripe({"Stripe-Signature": header}, STRIPE_BODY, [secret], now=NOW),
    )


def test_stripe_one_good_v1_among_bad_ones_and_a_v0_verifies() -> None:
    good = _by_hand(STRIPE_SECRET, NOW, STRIPE_BODY)
    header = f"t={NOW}, v1={'0' * 64}, v1={good}, v1=zz, v0={'1' * 64}"
    verify_stripe({"stripe-signature": header}, STRIPE_BODY, [STRIPE_SECRET], now=NOW)


def test_stripe_rotation_old_and_new_secret_both_verify() -> None:
    old, new = "whsec_old", "whsec_new"
    for signer in (old, new):
        header = stripe_signature_header(signer, STRIPE_BODY, NOW)
        verify_stripe({"Stripe-Signature": header}, STRIPE_BODY, [new, old], now=NOW)


@pytest.mark.parametrize(
    ("header", "body", "now", "code"),
    [
        (None, STRIPE_BODY, NOW, SIGNATURE_INVALID),  # wrong secret
        ("ok", STRIPE_BODY[:-1] + b"]", NOW, SIGNATURE_INVALID),  # body changed by one byte
        ("ok", STRIPE_BODY, NOW + 301, TIMESTAMP_STALE),  # replayed after the window
        ("ok", STRIPE_BODY, NOW - 301, TIMESTAMP_STALE),  # from the future
        (f"v1={'0' * 64}", STRIPE_BODY, NOW, SIGNATURE_MISSING),  # no t=
        (f"t={NOW}", STRIPE_BODY, NOW, SIGNATURE_MISSING),  # no v1=
        (f"t={NOW},v0={'0' * 64}", STRIPE_BODY, NOW, SIGNATURE_MISSING),  # only the legacy v0
        (f"t=yesterday,v1={'0' * 64}", STRIPE_BODY, NOW, TIMESTAMP_INVALID),
        ("", STRIPE_BODY, NOW, SIGNATURE_MISSING),
    ],
)
def test_stripe_refuses_what_its_documentation_refuses(
    header: str | None, body: bytes, now: int, code: str
) -> None:
    if header == "ok":
        header = stripe_signature_header(STRIPE_SECRET, STRIPE_BODY, NOW)
    elif header is None:
        header = stripe_signature_header("whsec_someone_else", STRIPE_BODY, NOW)
    headers = {"Stripe-Signature": header}
    _refused(code, lambda: verify_stripe(headers, body, [STRIPE_SECRET], now=now))


def test_stripe_without_the_header_is_missing() -> None:
    _refused(SIGNATURE_MISSING, lambda: verify_stripe({}, STRIPE_BODY, [STRIPE_SECRET], now=NOW))


# -- generic HMAC-SHA256 -----------------------------------------------------------------------

HMAC_SECRET = "catalog-feed-secret-1"
# Japanese text, an emoji ZWJ sequence and 𠮷 (outside the BMP): signed as raw UTF-8 bytes.
JA_BODY = '{"review_id":"r-1","text":"最高の漫画でした👨‍👩‍👧 𠮷野家"}'.encode()


def _hmac_headers(
    signature: str,
    timestamp: int = NOW,
    *,
    names: tuple[str, str] = ("X-Webhook-Signature", "X-Webhook-Timestamp"),
) -> dict[str, str]:
    return {names[0]: signature, names[1]: str(timestamp)}


def test_hmac_sha256_signs_the_timestamp_and_the_raw_utf8_body() -> None:
    expected = hmac.new(
        HMAC_SECRET.encode(), f"{NOW}.".encode() + JA_BODY, hashlib.sha256
    ).hexdigest()
    assert hmac_sha256_signature(HMAC_SECRET, JA_BODY, NOW) == expected
    verify_hmac_sha256(_hmac_headers(expected), JA_BODY, [HMAC_SECRET], now=NOW)
    verify_hmac_sha256(_hmac_headers("sha256=" + expected), JA_BODY, [HMAC_SECRET], now=NOW)
    verify_hmac_sha256(_hmac_headers(expected.upper()), JA_BODY, [HMAC_SECRET], now=NOW)


def test_hmac_sha256_reads_the_header_names_a_source_configures() -> None:
    names = ("X-Catalog-Signature", "X-Catalog-Timestamp")
    signature = hmac_sha256_signature(HMAC_SECRET, JA_BODY, NOW)
    headers = _hmac_headers(signature, names=names)
    verify_hmac_sha256(
        headers,
        JA_BODY,
        [HMAC_SECRET],
        now=NOW,
        signature_header=names[0],
        timestamp_header=names[1],
    )
    _refused(
        SIGNATURE_MISSING, lambda: verify_hmac_sha256(headers, JA_BODY, [HMAC_SECRET], now=NOW)
    )


def test_hmac_sha256_refuses_non_ascii_bytes_changed_and_a_swapped_timestamp() -> None:
    signature = hmac_sha256_signature(HMAC_SECRET, JA_BODY, NOW)
    changed = JA_BODY.replace("𠮷".encode(), "吉".encode())
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_hmac_sha256(_hmac_headers(signature), changed, [HMAC_SECRET], now=NOW),
    )
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_hmac_sha256(
            _hmac_headers(signature, NOW + 60), JA_BODY, [HMAC_SECRET], now=NOW
        ),
    )
    # A signature that is not even ASCII is refused, not a crash in compare_digest.
    _refused(
        SIGNATURE_INVALID,
        lambda: verify_hmac_sha256(_hmac_headers("署名"), JA_BODY, [HMAC_SECRET], now=NOW),
    )


@pytest.mark.parametrize("skew", [301, -301, 10_000])
def test_hmac_sha256_refuses_stale_and_future_timestamps(skew: int) -> None:
    signature = hmac_sha256_signature(HMAC_SECRET, JA_BODY, NOW)
    _refused(
        TIMESTAMP_STALE,
        lambda: verify_hmac_sha256(
            _hmac_headers(signature), JA_BODY, [HMAC_SECRET], now=NOW + skew
        ),
    )


def test_hmac_sha256_accepts_the_edges_of_the_window_and_a_rotated_secret() -> None:
    signature = hmac_sha256_signature("old-secret", JA_BODY, NOW)
    for now in (NOW - 300, NOW + 300):
        verify_hmac_sha256(_hmac_headers(signature), JA_BODY, ["new-secret", "old-secret"], now=now)


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({"X-Webhook-Signature": "00"}, SIGNATURE_MISSING),
        ({"X-Webhook-Timestamp": str(NOW)}, SIGNATURE_MISSING),
        ({"X-Webhook-Signature": "00", "X-Webhook-Timestamp": "-5"}, TIMESTAMP_INVALID),
        ({"X-Webhook-Signature": "00", "X-Webhook-Timestamp": "1e9"}, TIMESTAMP_INVALID),
        ({"X-Webhook-Signature": "00", "X-Webhook-Timestamp": "１２３"}, TIMESTAMP_INVALID),
    ],
)
def test_hmac_sha256_refuses_missing_headers_and_unreadable_timestamps(
    headers: dict[str, str], code: str
) -> None:
    _refused(code, lambda: verify_hmac_sha256(headers, JA_BODY, [HMAC_SECRET], now=NOW))
