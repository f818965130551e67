"""The event envelope: EventBridge's shape, its limits, and its JSON form.

An event is what happened, said once: ``source`` (who says it, ``mangaassist.payments``),
``detail-type`` (what, ``PaymentCompleted``), ``detail`` (a JSON object) and the bus's own fields
(``id``, ``time``, ``account``, ``region``, ``resources``, ``version``). A replayed event also
carries ``replay-name``, as EventBridge marks replays. Entries are at most 256 KB, measured as
EventBridge measures a PutEvents entry.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

__all__ = [
    "DEFAULT_ACCOUNT",
    "DEFAULT_REGION",
    "MAX_DETAIL_TYPE_CHARS",
    "MAX_EVENT_BYTES",
    "MAX_SOURCE_CHARS",
    "Event",
    "InvalidEvent",
    "check_envelope",
    "entry_size",
    "format_time",
    "parse_time",
]

#: PutEvents entry size limit (EventBridge quota: 256 KB).
MAX_EVENT_BYTES = 256 * 1024
#: EventBridge limits on the two names of an event.
MAX_SOURCE_CHARS = 256
MAX_DETAIL_TYPE_CHARS = 128
#: The account and region a self-hosted bus stamps when no AWS account is involved.
DEFAULT_ACCOUNT = "000000000000"
DEFAULT_REGION = "local"
#: EventBridge counts the ``Time`` field as 14 bytes whatever its value.
_TIME_BYTES = 14


class InvalidEvent(ValueError):  # noqa: N818 - named as EventBridge names it
    """An event the bus refuses: ``code`` is a stable code, ``reason`` says what to fix."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def format_time(moment: datetime) -> str:
    """EventBridge's ``time``: UTC, whole seconds, ``Z`` (``2026-11-22T09:30:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """The inverse of ``format_time`` (any ISO 8601 text with an offset or ``Z``)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Event:
    """One event in the EventBridge envelope."""

    detail_type: str
    detail: Mapping[str, Any]
    source: str = "mangaassist.chat"
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    resources: tuple[str, ...] = ()
    account: str = DEFAULT_ACCOUNT
    region: str = DEFAULT_REGION
    version: str = "0"
    #: Set on events re-delivered from an archive: the replay's name.
    replay_name: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The event as EventBridge delivers it to a target (and as patterns see it)."""
        data: dict[str, Any] = {
            "version": self.version,
            "id": self.id,
            "detail-type": self.detail_type,
            "source": self.source,
            "account": self.account,
            "time": format_time(self.time),
            "region": self.region,
            "resources": list(self.resources),
            "detail": dict(self.detail),
        }
        if self.replay_name is not None:
            data["replay-name"] = self.replay_name
        return data

    def to_json(self) -> str:
        """``to_dict`` as compact JSON, Japanese kept as text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    def replayed(self, name: str) -> Event:
        """This event as a replay called ``name`` delivers it."""
        return dataclasses.replace(self, replay_name=name)

    @classmethod
    def from_json(cls, text: str) -> Event:
        """Read an event back from ``to_json`` text."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InvalidEvent("EVENT_MALFORMED", f"not JSON: {exc}") from None
        if not isinstance(data, Mapping):
            raise InvalidEvent("EVENT_MALFORMED", "an event is a JSON object")
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Event:
        """Read an event back from ``to_dict`` form (an archive row, a queue message)."""
        try:
            detail = data["detail"]
            if not isinstance(detail, Mapping):
                raise TypeError("detail must be an object")
            return cls(
                detail_type=str(data["detail-type"]),
                detail=dict(detail),
                source=str(data["source"]),
                id=str(data["id"]),
                time=parse_time(str(data["time"])),
                resources=tuple(str(r) for r in data.get("resources", ())),
                account=str(data.get("account", DEFAULT_ACCOUNT)),
                region=str(data.get("region", DEFAULT_REGION)),
                version=str(data.get("version", "0")),
                replay_name=data.get("replay-name"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidEvent("EVENT_MALFORMED", f"not an event envelope: {exc}") from None


def _detail_json(event: Event) -> str:
    try:
        return json.dumps(event.detail, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidEvent("EVENT_DETAIL_INVALID", f"detail is not JSON: {exc}") from None


def entry_size(event: Event) -> int:
    """The entry's size as PutEvents counts it: 14 bytes of time plus the UTF-8 bytes of source,
    detail-type, detail and every resource."""
    size = _TIME_BYTES + len(event.source.encode()) + len(event.detail_type.encode())
    size += len(_detail_json(event).encode())
    return size + sum(len(resource.encode()) for resource in event.resources)


def check_envelope(event: Event) -> None:
    """Raise ``InvalidEvent`` unless the envelope is one EventBridge would accept."""
    if not event.source or len(event.source) > MAX_SOURCE_CHARS:
        raise InvalidEvent(
            "EVENT_SOURCE_INVALID", f"source must be 1-{MAX_SOURCE_CHARS} characters"
        )
    if event.source.startswith("aws."):
        raise InvalidEvent("EVENT_SOURCE_INVALID", "sources starting with `aws.` are reserved")
    if not event.detail_type or len(event.detail_type) > MAX_DETAIL_TYPE_CHARS:
        raise InvalidEvent(
            "EVENT_DETAIL_TYPE_INVALID", f"detail-type must be 1-{MAX_DETAIL_TYPE_CHARS} characters"
        )
    if not isinstance(event.detail, Mapping):
        raise InvalidEvent("EVENT_DETAIL_INVALID", "detail must be a JSON object")
    size = entry_size(event)
    if size > MAX_EVENT_BYTES:
        raise InvalidEvent(
            "EVENT_TOO_LARGE", f"the event is {size} bytes; the limit is {MAX_EVENT_BYTES}"
        )
