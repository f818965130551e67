"""API keys: a public prefix to look the key up, plus a secret stored only as a hash.

A key reads ``mk_live_<prefix>_<secret>``: the prefix is 8 lowercase base32 characters (40 bits,
shown in listings and logs), the secret 32 random bytes in URL-safe base64 (43 characters, shown
once at creation, never stored).

Why SHA-256 and not bcrypt or argon2: those slow hashes protect low-entropy passwords from
guessing. A 256-bit random secret cannot be guessed whatever the hash costs, and the check runs
on every request, where a deliberately slow hash would only add latency and CPU. An optional
server-side pepper turns the hash into HMAC-SHA-256, so a leaked key table alone cannot even
confirm a leaked key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field

__all__ = [
    "KEY_PREFIX",
    "PREFIX_LENGTH",
    "SECRET_BYTES",
    "IssuedKey",
    "generate_key",
    "hash_secret",
    "parse_key",
    "verify",
]

#: What every MangaAssist API key starts with (lets secret scanners recognise leaked keys).
KEY_PREFIX = "mk_live_"
#: Characters of the public prefix: 8 base32 characters = 40 bits, ample for lookups.
PREFIX_LENGTH = 8
#: Random bytes in the secret: 256 bits, so guessing is hopeless and a fast hash is enough.
SECRET_BYTES = 32

_SECRET_LENGTH = len(base64.urlsafe_b64encode(bytes(SECRET_BYTES)).rstrip(b"="))
_KEY_RE = re.compile(
    rf"{KEY_PREFIX}(?P<prefix>[a-z2-7]{{{PREFIX_LENGTH}}})_(?P<secret>[A-Za-z0-9_-]{{{_SECRET_LENGTH}}})"
)
_SHA256 = "sha256"
_HMAC_SHA256 = "hmac-sha256"


@dataclass(frozen=True)
class IssuedKey:
    """A newly created key: the only object that ever holds the secret in clear.

    ``secret_plaintext`` is the secret part alone; :attr:`api_key` is the whole value the
    partner sends as ``X-Api-Key``. Show it once, then drop this object.
    """

    prefix: str
    secret_plaintext: str = field(repr=False)
    hash: str = field(repr=False)

    @property
    def api_key(self) -> str:
        """The full key to hand to the partner, e.g. ``mk_live_abcd2345_...``."""
        return f"{KEY_PREFIX}{self.prefix}_{self.secret_plaintext}"

    def __repr__(self) -> str:
        return f"IssuedKey(prefix={self.prefix!r}, secret=<hidden>)"

    __str__ = __repr__


def _new_prefix() -> str:
    raw = base64.b32encode(secrets.token_bytes(5)).decode("ascii")
    return raw.lower()[:PREFIX_LENGTH]


def hash_secret(secret: str, pepper: bytes | None = None) -> str:
    """The stored form of a secret: ``sha256$<hex>``, or ``hmac-sha256$<hex>`` with a pepper."""
    data = secret.encode("utf-8")
    if pepper:
        return f"{_HMAC_SHA256}${hmac.new(pepper, data, hashlib.sha256).hexdigest()}"
    return f"{_SHA256}${hashlib.sha256(data).hexdigest()}"


def generate_key(pepper: bytes | None = None) -> IssuedKey:
    """A fresh key; the caller stores ``prefix`` and ``hash`` and shows ``api_key`` once."""
    secret = base64.urlsafe_b64encode(secrets.token_bytes(SECRET_BYTES)).rstrip(b"=").decode()
    return IssuedKey(
        prefix=_new_prefix(), secret_plaintext=secret, hash=hash_secret(secret, pepper)
    )


def parse_key(header_value: str | None) -> tuple[str, str] | None:
    """``(prefix, secret)`` from an ``X-Api-Key`` value, or None when it is not a key.

    Surrounding whitespace is forgiven (copy and paste); anything else that deviates from the
    format is refused before any lookup, so junk never reaches the store.
    """
    if not header_value:
        return None
    match = _KEY_RE.fullmatch(header_value.strip(" \t\r\n"))
    if match is None:
        return None
    return match["prefix"], match["secret"]


def verify(secret: str, stored_hash: str, pepper: bytes | None = None) -> bool:
    """Whether ``secret`` matches ``stored_hash``, compared in constant time.

    The scheme comes from the stored value, so keys hashed before a pepper was configured keep
    working; a peppered hash never verifies without the pepper.
    """
    scheme, _, _digest = stored_hash.partition("$")
    if scheme == _HMAC_SHA256:
        if not pepper:
            return False
        expected = hash_secret(secret, pepper)
    elif scheme == _SHA256:
        expected = hash_secret(secret)
    else:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), stored_hash.encode("utf-8"))
