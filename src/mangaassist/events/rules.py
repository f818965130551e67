"""Rules and targets: which events go where, checked as EventBridge checks them.

A rule has a name, an event pattern and at most five targets. A target is a queue (its retries
and dead-letter queue are the queue's own), an HTTP webhook (signed, retried on a schedule,
SSRF-guarded) or an in-process handler. Webhook and handler targets have a retry policy (attempts
and maximum event age, EventBridge's defaults 185 and 24 h) and a dead-letter queue of their own.

Rules are written as JSON (the rules file and the admin API take the same form)::

    {"name": "orders", "eventPattern": {"detail-type": ["PaymentCompleted"]},
     "targets": [{"id": "confirm", "queue": "manga-fm-normal", "jobKind": "order_confirmation"},
                 {"id": "crm", "webhook": "https://crm.example.com/hooks",
                  "inputPath": "$.detail", "retryPolicy": {"maximumRetryAttempts": 8}}]}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from mangaassist.events.patterns import CompiledPattern, InvalidEventPattern, compile_pattern
from mangaassist.events.transform import InputTransform, InvalidInputTransform

__all__ = [
    "MAX_TARGETS",
    "InvalidRuleError",
    "RetryPolicy",
    "Rule",
    "RuleConfig",
    "Target",
    "TargetKind",
    "rule_from_config",
]

#: EventBridge allows five targets per rule.
MAX_TARGETS = 5
_NAME = r"^[\.\-_A-Za-z0-9]{1,64}$"
_TRANSFORM_KEYS = ("input", "inputPath", "inputTransformer")


class InvalidRuleError(ValueError):
    """A rule the bus refuses; ``code`` is stable, the message says what to fix."""

    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


class TargetKind(StrEnum):
    """Where a target delivers."""

    #: A message (or a job) on one of the product's queues.
    QUEUE = "queue"
    #: A signed HTTP POST to an outside endpoint.
    WEBHOOK = "webhook"
    #: A named in-process handler (``events/handlers.py``).
    HANDLER = "handler"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long a failing delivery is retried before it goes to the target's DLQ."""

    maximum_attempts: int = 185
    maximum_event_age_s: int = 86_400


@dataclass(frozen=True, slots=True)
class Target:
    """One destination of a rule."""

    id: str
    kind: TargetKind
    #: The queue name, the URL or the handler name.
    destination: str
    transform: InputTransform = field(default_factory=InputTransform)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    #: Queue for deliveries that ran out of retries; None: the bus's default.
    dead_letter: str | None = None
    #: Queue targets: send the input as a job of this kind (else the input is the message).
    job_kind: str | None = None
    #: FIFO queue targets: the message group (default: the event's source).
    message_group_id: str | None = None


@dataclass(frozen=True, slots=True)
class Rule:
    """A named pattern and its targets."""

    name: str
    pattern: Mapping[str, Any]
    targets: tuple[Target, ...]
    description: str = ""
    enabled: bool = True
    #: Where the rule came from: ``builtin``, ``file`` or ``api``.
    origin: str = "api"
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    matcher: CompiledPattern = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "matcher", compile_pattern(dict(self.pattern)))


class RetryPolicyConfig(BaseModel):
    """EventBridge's RetryPolicy."""

    model_config = ConfigDict(extra="forbid")
    maximumRetryAttempts: int = Field(185, ge=0, le=185)  # noqa: N815 - EventBridge's name
    maximumEventAgeInSeconds: int = Field(86_400, ge=60, le=86_400)  # noqa: N815


class TargetConfig(BaseModel):
    """A target as JSON: exactly one of ``queue``, ``webhook``, ``handler``."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[\.\-_A-Za-z0-9]{1,64}$")
    queue: str | None = None
    webhook: str | None = None
    handler: str | None = None
    jobKind: str | None = Field(None, min_length=1, max_length=64)  # noqa: N815
    messageGroupId: str | None = Field(None, min_length=1, max_length=128)  # noqa: N815
    input: str | None = None
    inputPath: str | None = None  # noqa: N815
    inputTransformer: dict[str, Any] | None = None  # noqa: N815
    retryPolicy: RetryPolicyConfig = Field(default_factory=RetryPolicyConfig)  # noqa: N815
    deadLetterQueue: str | None = Field(None, min_length=1, max_length=80)  # noqa: N815

    @model_validator(mode="after")
    def _one_destination(self) -> TargetConfig:
        given = [name for name in ("queue", "webhook", "handler") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError("a target names exactly one of `queue`, `webhook` or `handler`")
        if (self.jobKind or self.messageGroupId) and not self.queue:
            raise ValueError("`jobKind` and `messageGroupId` belong to queue targets")
        return self


class RuleConfig(BaseModel):
    """A rule as JSON (rules file and admin API)."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=_NAME)
    description: str = Field("", max_length=512)
    state: Literal["ENABLED", "DISABLED"] = "ENABLED"
    eventPattern: dict[str, Any]  # noqa: N815
    targets: list[TargetConfig] = Field(default_factory=list, max_length=MAX_TARGETS)


def _target(config: TargetConfig) -> Target:
    kind, destination = next(
        (TargetKind(name), value)
        for name in ("queue", "webhook", "handler")
        if (value := getattr(config, name))
    )
    transform_config = {key: getattr(config, key) for key in _TRANSFORM_KEYS}
    transform = InputTransform.from_config(
        {key: value for key, value in transform_config.items() if value is not None}
    )
    return Target(
        id=config.id,
        kind=kind,
        destination=destination,
        transform=transform,
        retry=RetryPolicy(
            config.retryPolicy.maximumRetryAttempts, config.retryPolicy.maximumEventAgeInSeconds
        ),
        dead_letter=config.deadLetterQueue,
        job_kind=config.jobKind,
        message_group_id=config.messageGroupId,
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"]) or "(the rule)"
    return f"{where}: {error['msg']}"


def rule_from_config(data: Mapping[str, Any], *, origin: str = "api") -> Rule:
    """Parse and check a rule; raises ``InvalidRuleError`` with the first problem."""
    try:
        config = RuleConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise InvalidRuleError("EVENT_RULE_INVALID", _first_error(exc)) from None
    ids = [target.id for target in config.targets]
    if len(set(ids)) != len(ids):
        raise InvalidRuleError("EVENT_RULE_INVALID", "target ids must be unique within a rule")
    try:
        targets = tuple(_target(target) for target in config.targets)
        return Rule(
            name=config.name,
            pattern=config.eventPattern,
            targets=targets,
            description=config.description,
            enabled=config.state == "ENABLED",
            origin=origin,
            config=config.model_dump(exclude_none=True),
        )
    except InvalidEventPattern as exc:
        raise InvalidRuleError("EVENT_PATTERN_INVALID", f"eventPattern: {exc}") from None
    except InvalidInputTransform as exc:
        raise InvalidRuleError("EVENT_TARGET_INPUT_INVALID", str(exc)) from None


def rules_from_file_data(data: Any, *, origin: str = "file") -> list[Rule]:
    """The rules of a rules file: ``{"rules": [...]}`` or a bare list."""
    items: Sequence[Any] = data.get("rules", []) if isinstance(data, Mapping) else data
    if not isinstance(items, Sequence) or isinstance(items, str):
        raise InvalidRuleError("EVENT_RULE_INVALID", 'a rules file holds {"rules": [...]}')
    return [rule_from_config(item, origin=origin) for item in items]
