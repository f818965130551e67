"""A scripted model on the model port, for router and chat tests that need exact behaviour.

Each call takes the next step of the script: ``"ok"`` streams ``reply``; a ``ModelError``
instance is raised before any token; ``Hang(s)`` waits ``s`` seconds before the first token;
``Cut(n, error)`` streams ``n`` pieces and then raises ``error``; ``"empty"`` streams no text;
``"no_end"`` streams the reply without its ``StreamEnd``. After the script, calls answer ``"ok"``.
``pace_s`` is the pause after each piece.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from mangaassist.llm.base import (
    ChatModel,
    ModelError,
    ModelRequest,
    StreamEnd,
    StreamEvent,
    TextDelta,
    Usage,
)

__all__ = ["Cut", "Hang", "ScriptedModel", "Step"]


@dataclass(frozen=True)
class Hang:
    seconds: float


@dataclass(frozen=True)
class Cut:
    after: int
    error: ModelError


Step = str | ModelError | Hang | Cut | Exception


class ScriptedModel(ChatModel):
    """See the module docstring; ``calls`` counts the calls made."""

    def __init__(
        self,
        model_id: str,
        *script: Step,
        reply: tuple[str, ...] = ("Hello. ", "Welcome!"),
        pace_s: float = 0.0,
    ) -> None:
        self.model_id = model_id
        self.script = list(script)
        self.reply = reply
        self.calls = 0
        self.pace_s = pace_s
        self.requests: list[ModelRequest] = []

    async def stream(self, request: ModelRequest) -> AsyncIterator[StreamEvent]:
        self.calls += 1
        self.requests.append(request)
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, Exception) and not isinstance(step, Cut):
            raise step
        if isinstance(step, Hang):
            await asyncio.sleep(step.seconds)
        if step == "empty":
            yield StreamEnd(Usage(10, 0))
            return
        for i, piece in enumerate(self.reply):
            if isinstance(step, Cut) and i == step.after:
                raise step.error
            yield TextDelta(piece)
            await asyncio.sleep(self.pace_s)
        if step != "no_end":
            yield StreamEnd(Usage(10, len(self.reply)))
