"""Standard Webhooks signatures: the specification's own vector, and what verification refuses."""

from __future__ import annotations

import pytest

from mangaassist.webhooks.signing import (
    InvalidSignatureError,
    decode_secret,
    new_secret,
    sign,
    signed_headers,
    verify,
)

# The test vector published with the Standard Webhooks specification.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = '{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(signature: str = SIGNATURE, timestamp: int = TIMESTAMP) -> dict[str, str]:
    return {
        "webhook-id": MSG_ID,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature,
    }


def test_signing_reproduces_the_specification_vector() -> None:
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY.encode()) == SIGNATURE


def test_the_specification_vector_verifies_with_or_without_the_prefix() -> None:
    verify(SECRET, _headers(), BODY, now=TIMESTAMP + 10)
    verify(SECRET.removeprefix("whsec_"), _headers(), BODY, now=TIMESTAMP)


def test_header_names_are_matched_case_insensitively() -> None:
    headers = {k.title(): v for k, v in _headers().items()}
    verify(SECRET, headers, BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    ("headers", "body", "now"),
    [
        (_headers(), '{"test": 2432232315}', TIMESTAMP),  # body altered
        ({**_headers(), "webhook-id": "msg_other"}, BODY, TIMESTAMP),  # id swapped
        (_headers(timestamp=TIMESTAMP + 1), BODY, TIMESTAMP),  # timestamp swapped
        (_headers(), BODY, TIMESTAMP + 301),  # replayed after the window
        (_headers(), BODY, TIMESTAMP - 301),  # from the future
        (_headers("v2," + SIGNATURE[3:]), BODY, TIMESTAMP),  # unknown scheme
        ({"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP)}, BODY, TIMESTAMP),
        (_headers(timestamp=0) | {"webhook-timestamp": "soon"}, BODY, TIMESTAMP),
    ],
)
def test_a_delivery_that_was_tampered_with_or_replayed_is_refused(
    headers: dict[str, str], body: str, now: int
) -> None:
    with pytest.raises(InvalidSignatureError):
        verify(SECRET, headers, body, now=now)


def test_any_signature_of_a_rotation_list_may_match() -> None:
    other = sign(new_secret(), MSG_ID, TIMESTAMP, BODY)
    verify(SECRET, _headers(f"{other} {SIGNATURE}"), BODY, now=TIMESTAMP)
    with pytest.raises(InvalidSignatureError):
        verify(SECRET, _headers(other), BODY, now=TIMESTAMP)


def test_signed_headers_verify_and_new_secrets_differ() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(decode_secret(secret)) == 32
    assert secret != new_secret()
    headers = signed_headers(secret, "msg_1", b'{"a":1}')
    verify(secret, headers, b'{"a":1}')
    assert headers["webhook-id"] == "msg_1"


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_c2hvcnQ=", ""])
def test_malformed_or_short_secrets_are_refused(secret: str) -> None:
    with pytest.raises(ValueError, match="webhook secret"):
        decode_secret(secret)
