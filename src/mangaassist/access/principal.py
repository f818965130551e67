"""Who a request comes from, and the gate's two verdicts: admitted or refused."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from mangaassist.access.limiter import Decision

__all__ = ["Admission", "Principal", "PrincipalKind", "Refusal"]


class PrincipalKind(StrEnum):
    """How the caller proved who it is."""

    ANONYMOUS = "anonymous"
    API_KEY = "api_key"
    TOKEN = "token"  # noqa: S105 - a kind of credential, not a secret


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller as far as access control could tell; routes read it from request state.

    ``subject`` is ``key:<prefix>`` for API keys, the token's ``sub`` for JWTs (``iss`` in
    ``claims``), ``anonymous`` otherwise; it is safe to log. ``claims`` are the verified JWT
    claims, or the key's name and plan.
    """

    subject: str = "anonymous"
    claims: Mapping[str, object] = field(default_factory=dict)
    kind: PrincipalKind = PrincipalKind.ANONYMOUS
    plan: str | None = None


@dataclass(frozen=True, slots=True)
class Admission:
    """Let in: who it is and, when limits were counted, the numbers for the rate-limit headers."""

    principal: Principal
    decision: Decision | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Turned away with an HTTP status, a stable error code and the headers that go with it."""

    status: int
    code: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, object] = field(default_factory=dict)
