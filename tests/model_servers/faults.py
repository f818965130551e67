"""What a fake model server does with each call: answer, or fail in one of the ways real ones do.

A ``FaultPlan`` is shared by the fake Bedrock and the fake OpenAI-compatible server. Each call takes
the next ``Outcome``: first from ``script`` (one per call, in order: exact scenarios for tests),
then at random from ``rates`` (load with a failure share: benchmarks), else ``OK``. Timing is part
of the plan: the delay before the first token, the pause between tokens, and how long a hung call
hangs. Tests change the plan of a running server with ``PUT /_fake/plan`` and read what it was
sent with ``GET /_fake/calls``.
"""

from __future__ import annotations

import asyncio
import random
import threading
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import FastAPI, Request

__all__ = ["FakeModelState", "FaultPlan", "Outcome", "add_control_routes", "split_reply"]


class Outcome(StrEnum):
    """What one call gets."""

    OK = "ok"
    THROTTLE = "throttle"  #: 429 / ThrottlingException, with Retry-After
    OVERLOADED = "overloaded"  #: 503 / ServiceUnavailableException
    TIMEOUT = "timeout"  #: nothing at all (no status line) for ``hang_s``
    STALL = "stall"  #: the response starts, but no token comes for ``hang_s``
    DISCONNECT = "disconnect"  #: ``disconnect_after`` tokens, then the connection is cut
    MALFORMED = "malformed"  #: a body or stream event that breaks the protocol
    AUTH = "auth"  #: 403 / AccessDeniedException (401 on OpenAI)
    CONTEXT = "context"  #: 400, the prompt is too long for the model
    INVALID = "invalid"  #: 400 / ValidationException


@dataclass
class FaultPlan:
    """See the module docstring; every field has a quiet default (instant, correct answers)."""

    script: list[Outcome] = field(default_factory=list)
    rates: dict[Outcome, float] = field(default_factory=dict)
    #: Uniform range of the delay before the first token (and before a non-streamed answer).
    first_token_s: tuple[float, float] = (0.0, 0.0)
    #: Pause between streamed tokens.
    token_interval_s: float = 0.0
    #: How long a TIMEOUT or STALL call hangs (the client gives up first).
    hang_s: float = 30.0
    #: Tokens sent before a DISCONNECT cuts the connection.
    disconnect_after: int = 3
    #: Retry-After (seconds) sent with THROTTLE and OVERLOADED; None sends none.
    retry_after_s: float | None = None
    #: The answer text; empty means a short fixed answer in the request's language.
    reply: str = ""
    #: OpenAI only: send usage in a final chunk (vLLM with ``include_usage``); else none at all.
    usage_in_stream: bool = True
    seed: int | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultPlan:
        """The plan from its JSON form (the body of ``PUT /_fake/plan``)."""
        plan = cls(**{k: v for k, v in data.items() if k not in ("script", "rates")})
        plan.script = [Outcome(o) for o in data.get("script", [])]
        plan.rates = {Outcome(o): float(r) for o, r in data.get("rates", {}).items()}
        plan.first_token_s = tuple(data.get("first_token_s", (0.0, 0.0)))
        return plan

    def to_json(self) -> dict[str, Any]:
        """The plan as JSON."""
        return {
            "script": [str(o) for o in self.script],
            "rates": {str(o): r for o, r in self.rates.items()},
            "first_token_s": list(self.first_token_s),
            "token_interval_s": self.token_interval_s,
            "hang_s": self.hang_s,
            "disconnect_after": self.disconnect_after,
            "retry_after_s": self.retry_after_s,
            "reply": self.reply,
            "usage_in_stream": self.usage_in_stream,
            "seed": self.seed,
        }


class FakeModelState:
    """A fake server's plan, its random source and the calls it received (thread-safe: tests
    read it from another thread than the server's)."""

    def __init__(self, plan: FaultPlan | None = None) -> None:
        self._lock = threading.Lock()
        self.calls: list[dict[str, Any]] = []
        self.set_plan(plan or FaultPlan())

    def set_plan(self, plan: FaultPlan) -> None:
        """Replace the plan (and reseed)."""
        with self._lock:
            self.plan = plan
            self._script = list(plan.script)
            self._random = random.Random(plan.seed)

    def record(self, call: dict[str, Any]) -> Outcome:
        """Remember a call with its outcome (``call["outcome"]``), decided here."""
        with self._lock:
            outcome = self._decide()
            self.calls.append({**call, "outcome": str(outcome)})
            return outcome

    def _decide(self) -> Outcome:
        if self._script:
            return self._script.pop(0)
        draw = self._random.random()
        for outcome, rate in self.plan.rates.items():
            if draw < rate:
                return outcome
            draw -= rate
        return Outcome.OK

    def first_token_delay(self) -> float:
        """Seconds before the first token of this call."""
        low, high = self.plan.first_token_s
        with self._lock:
            return self._random.uniform(low, high) if high > low else low

    async def hang(self) -> None:
        """Hang as a stalled server does."""
        await asyncio.sleep(self.plan.hang_s)


def split_reply(text: str) -> list[str]:
    """The reply in token-sized pieces: words with their space, or 2 Japanese characters."""
    pieces: list[str] = []
    current = ""
    for char in text:
        current += char
        ascii_word = char.isascii()
        if (ascii_word and char == " ") or (not ascii_word and len(current) >= 2):
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


def add_control_routes(app: FastAPI, state: FakeModelState) -> None:
    """``PUT /_fake/plan``, ``GET /_fake/calls`` and ``DELETE /_fake/calls`` on ``app``."""

    @app.put("/_fake/plan")
    async def put_plan(request: Request) -> dict[str, Any]:
        state.set_plan(FaultPlan.from_json(await request.json()))
        return state.plan.to_json()

    @app.get("/_fake/calls")
    async def get_calls() -> list[dict[str, Any]]:
        return list(state.calls)

    @app.delete("/_fake/calls")
    async def clear_calls() -> dict[str, int]:
        count = len(state.calls)
        state.calls.clear()
        return {"cleared": count}
