"""Request and response bodies of the event bus's admin API (EventBridge names, camelCase)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mangaassist.events.rules import Rule, RuleConfig

__all__ = [
    "EndpointView",
    "EventEntry",
    "PutEventsRequest",
    "PutEventsResponse",
    "PutEventsResultEntry",
    "ReplayRequest",
    "ReplayResponse",
    "RuleList",
    "RuleView",
    "TestPatternRequest",
    "TestPatternResponse",
    "rule_view",
]


class RuleView(RuleConfig):
    """A rule in force, and where it comes from."""

    origin: Literal["builtin", "file", "api"]


def rule_view(rule: Rule) -> RuleView:
    """The admin API's view of a rule."""
    return RuleView.model_validate({**rule.config, "origin": rule.origin})


class RuleList(BaseModel):
    """Every rule in force, by name."""

    rules: list[RuleView]


class TestPatternRequest(BaseModel):
    """EventBridge's TestEventPattern: does this pattern match this event?"""

    model_config = ConfigDict(extra="forbid")
    eventPattern: dict[str, Any]  # noqa: N815
    event: dict[str, Any]


class TestPatternResponse(BaseModel):
    """The answer of TestEventPattern."""

    result: bool


class EventEntry(BaseModel):
    """One PutEvents entry."""

    model_config = ConfigDict(extra="forbid")
    source: str
    detailType: str  # noqa: N815
    detail: dict[str, Any]
    resources: list[str] = Field(default_factory=list)
    time: datetime | None = None


class PutEventsRequest(BaseModel):
    """PutEvents: 1-10 entries."""

    model_config = ConfigDict(extra="forbid")
    entries: list[EventEntry] = Field(min_length=1, max_length=10)


class PutEventsResultEntry(BaseModel):
    """One entry's outcome: an event id, or an error code and message."""

    eventId: str | None = None  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    errorMessage: str | None = None  # noqa: N815


class PutEventsResponse(BaseModel):
    """PutEvents' answer: one result per entry, in order."""

    failedEntryCount: int  # noqa: N815
    entries: list[PutEventsResultEntry]


class ReplayRequest(BaseModel):
    """Re-deliver an archive's events of ``[from, to)`` to every rule or to the ones named."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    archive: str = "mangaassist-archive"
    start: datetime = Field(alias="from")
    end: datetime = Field(alias="to")
    rules: list[str] | None = None
    name: str | None = Field(None, pattern=r"^[\.\-_A-Za-z0-9]{1,64}$")


class ReplayResponse(BaseModel):
    """What a replay did."""

    name: str
    events: int
    deliveries: int


class EndpointView(BaseModel):
    """An outbound webhook endpoint that has failed."""

    url: str
    failingSince: datetime | None  # noqa: N815
    lastFailureAt: datetime | None  # noqa: N815
    lastError: str | None  # noqa: N815
    failures: int
    disabledAt: datetime | None  # noqa: N815
