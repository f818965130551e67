"""What a rule target receives: the event, a constant, a part of the event, or a filled template.

Mirrors EventBridge's target input options (``Input``, ``InputPath`` and ``InputTransformer``)
so a rule written for AWS behaves the same on the embedded bus. ``validate`` refuses what
``PutTargets`` refuses, at rule creation; ``apply`` on a valid transform never fails on an event.
One deliberate difference: AWS does not escape values placed inside a template's string literals,
which can yield broken JSON; here they are escaped, so a JSON template always gives valid JSON.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

from mangaassist.events.jsonpath import InvalidJsonPath, JsonPath, parse_path

__all__ = ["PREDEFINED_VARIABLES", "InputTransform", "InvalidInputTransform"]

# Limits from the EventBridge API model (TargetInput, TransformerInput, TargetInputPath,
# TransformerPaths, InputTransformerPathKey).
MAX_INPUT_CHARS = 8192
MAX_TEMPLATE_CHARS = 8192
MAX_PATH_CHARS = 256
MAX_PATHS = 100
MAX_NAME_CHARS = 256

RULE_ARN = "aws.events.rule-arn"
RULE_NAME = "aws.events.rule-name"
EVENT = "aws.events.event"
EVENT_JSON = "aws.events.event.json"
INGESTION_TIME = "aws.events.event.ingestion-time"
#: Variables a template may use without defining them in ``InputPathsMap``.
PREDEFINED_VARIABLES: Final = frozenset({RULE_ARN, RULE_NAME, EVENT, EVENT_JSON, INGESTION_TIME})
# They insert whole objects, which AWS only allows as JSON values, never inside a string.
_OBJECT_VARIABLES: Final = frozenset({EVENT, EVENT_JSON})

_NAME = re.compile(r"[A-Za-z0-9_\-]+")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.\-]+)>")
_JSON_WHITESPACE: Final = frozenset(" \t\n\r")

# PascalCase keys (EventBridge API, CloudFormation); camelCase ones are accepted too.
_TARGET_KEYS: Final = {"Input": "input", "InputPath": "input_path", "InputTransformer": "tr"}
_TRANSFORMER_KEYS: Final = {"InputPathsMap": "paths", "InputTemplate": "template"}


class InvalidInputTransform(ValueError):  # noqa: N818 - named like InvalidEvent
    """A target input configuration EventBridge refuses when the rule's target is created."""


class _Missing(enum.Enum):
    VALUE = enum.auto()


#: What a path that selects nothing yields: ``""`` in a template, ``null`` for ``InputPath``.
_MISSING: Final = _Missing.VALUE


@dataclass(frozen=True, slots=True)
class _Placeholder:
    name: str
    in_string: bool  # inside a JSON string literal of the template


@dataclass(frozen=True, slots=True)
class InputTransform:
    """How a target's input is made from the matched event (at most one of the modes).

    Attributes:
        input: Constant JSON text delivered as-is (EventBridge ``Input``).
        input_path: JSONPath of the part of the event to deliver (``InputPath``).
        input_paths_map: Variable name to JSONPath (``InputTransformer.InputPathsMap``).
        input_template: Text with ``<name>`` placeholders (``InputTransformer.InputTemplate``).
    """

    input: str | None = None
    input_path: str | None = None
    input_paths_map: Mapping[str, str] | None = None
    input_template: str | None = None

    def validate(self) -> None:
        """Raise ``InvalidInputTransform`` for anything EventBridge's ``PutTargets`` refuses."""
        modes = [
            m for m, on in (("Input", self.input), ("InputPath", self.input_path)) if on is not None
        ]
        if self.input_template is not None or self.input_paths_map is not None:
            modes.append("InputTransformer")
        if len(modes) > 1:
            raise InvalidInputTransform(
                f"only one of Input, InputPath or InputTransformer may be set, not {modes}"
            )
        if self.input is not None:
            if len(self.input) > MAX_INPUT_CHARS:
                raise InvalidInputTransform(f"Input is over {MAX_INPUT_CHARS} characters")
            try:
                _loads(self.input)
            except ValueError as error:
                raise InvalidInputTransform(f"Input is not valid JSON: {error}") from error
        if self.input_path is not None:
            _check_path("InputPath", self.input_path)
        if self.input_paths_map is not None and self.input_template is None:
            raise InvalidInputTransform("InputTransformer needs an InputTemplate")
        if self.input_template is not None:
            _check_transformer(self.input_template, self.input_paths_map or {})

    def apply(
        self,
        event: dict[str, Any],
        *,
        rule_name: str = "",
        rule_arn: str = "",
        ingestion_time: str | None = None,
    ) -> str:
        """The text delivered to the target for ``event``.

        ``ingestion_time`` defaults to the event's ``time``. A template placeholder whose path
        selects nothing becomes ``""`` (AWS's recorded behaviour, quoted or not); an
        ``InputPath`` that selects nothing delivers ``null``. Paths with wildcards deliver the
        array of everything they select.
        """
        if self.input is not None:
            return self.input
        if self.input_path is not None:
            value = _select(parse_path(self.input_path), event)
            return "null" if value is _MISSING else _dumps(value)
        if self.input_template is None:
            return _dumps(event)
        values: dict[str, Any] = {
            name: _select(parse_path(path), event)
            for name, path in (self.input_paths_map or {}).items()
        }
        values[RULE_NAME] = rule_name
        values[RULE_ARN] = rule_arn
        values[INGESTION_TIME] = (
            event.get("time", _MISSING) if ingestion_time is None else ingestion_time
        )
        # What AWS delivers for <aws.events.event>: the envelope without ``detail``, with
        # ``detail-type`` spelled ``detailType``.
        values[EVENT] = {
            "detailType" if key == "detail-type" else key: value
            for key, value in event.items()
            if key != "detail"
        }
        values[EVENT_JSON] = event
        parts = _split(self.input_template)
        return _render(parts, values, json_template=_is_json(parts))

    @classmethod
    def from_config(cls, data: Mapping[str, Any]) -> InputTransform:
        """Read a target's ``Input`` / ``InputPath`` / ``InputTransformer`` (Pascal or camel case).

        Raises ``InvalidInputTransform`` for unknown keys, wrong types or an invalid transform.
        """
        target = _rename(data, _TARGET_KEYS, "target input")
        paths: Mapping[str, str] | None = None
        template: str | None = None
        if (transformer := target.get("tr")) is not None:
            if not isinstance(transformer, Mapping):
                raise InvalidInputTransform("InputTransformer must be an object")
            fields = _rename(transformer, _TRANSFORMER_KEYS, "InputTransformer")
            template = _optional_str(fields.get("template"), "InputTemplate")
            if template is None:
                raise InvalidInputTransform("InputTransformer needs an InputTemplate")
            if (raw_paths := fields.get("paths")) is not None:
                if not isinstance(raw_paths, Mapping) or not all(
                    isinstance(key, str) and isinstance(value, str)
                    for key, value in raw_paths.items()
                ):
                    raise InvalidInputTransform("InputPathsMap must map names to JSONPath strings")
                paths = MappingProxyType(dict(raw_paths))
        transform = cls(
            input=_optional_str(target.get("input"), "Input"),
            input_path=_optional_str(target.get("input_path"), "InputPath"),
            input_paths_map=paths,
            input_template=template,
        )
        transform.validate()
        return transform


def _check_path(where: str, path: str) -> None:
    if len(path) > MAX_PATH_CHARS:
        raise InvalidInputTransform(f"{where} is over {MAX_PATH_CHARS} characters")
    try:
        parse_path(path)
    except InvalidJsonPath as error:
        raise InvalidInputTransform(f"{where}: {error}") from error


def _check_transformer(template: str, paths: Mapping[str, str]) -> None:
    if not 1 <= len(template) <= MAX_TEMPLATE_CHARS:
        raise InvalidInputTransform(f"InputTemplate must have 1 to {MAX_TEMPLATE_CHARS} characters")
    if len(paths) > MAX_PATHS:
        raise InvalidInputTransform(f"InputPathsMap has {len(paths)} entries, over {MAX_PATHS}")
    for name, path in paths.items():
        if name.lower().startswith("aws."):
            raise InvalidInputTransform(f"InputPathsMap name {name!r} is reserved (aws.)")
        if len(name) > MAX_NAME_CHARS or not _NAME.fullmatch(name):
            raise InvalidInputTransform(
                f"InputPathsMap name {name!r} must be 1 to {MAX_NAME_CHARS} of A-Z a-z 0-9 _ -"
            )
        _check_path(f"InputPathsMap[{name!r}]", path)
    parts = _split(template)
    json_template = _is_json(parts)
    if not json_template and template.lstrip().startswith(("{", "[")):
        raise InvalidInputTransform(
            "InputTemplate looks like JSON but is not valid JSON (placeholders cannot be keys)"
        )
    for part in parts:
        if isinstance(part, str):
            continue
        if part.name not in paths and part.name not in PREDEFINED_VARIABLES:
            raise InvalidInputTransform(f"InputTemplate contains invalid placeholder <{part.name}>")
        if json_template and part.in_string and part.name in _OBJECT_VARIABLES:
            raise InvalidInputTransform(f"<{part.name}> must be a JSON value, not inside quotes")


def _split(template: str) -> list[str | _Placeholder]:
    """Cut the template into literal text and placeholders, noting which sit inside strings."""
    parts: list[str | _Placeholder] = []
    in_string = escaped = False
    start = position = 0
    while position < len(template):
        char = template[position]
        if char == "<" and (match := _PLACEHOLDER.match(template, position)):
            parts += [template[start:position], _Placeholder(match[1], in_string)]
            start = position = match.end()
            escaped = False
            continue
        if escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        position += 1
    parts.append(template[start:])
    return parts


def _is_json(parts: list[str | _Placeholder]) -> bool:
    """Whether the template is JSON once each placeholder outside a string stands for a value."""
    probe = "".join(
        part if isinstance(part, str) else f"<{part.name}>" if part.in_string else "null"
        for part in parts
    )
    try:
        _loads(probe)
    except ValueError:
        return False
    return True


def _render(parts: list[str | _Placeholder], values: dict[str, Any], *, json_template: bool) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.name not in values:
            out.append(f"<{part.name}>")  # not a variable: left as text
        elif json_template and not part.in_string:
            value = values[part.name]
            out.append('""' if value is _MISSING else _dumps(value))
        else:
            value = values[part.name]
            text = "" if value is _MISSING else value if isinstance(value, str) else _dumps(value)
            out.append(_dumps(text)[1:-1] if json_template else text)
    rendered = "".join(out)
    return _minify(rendered) if json_template else rendered


def _minify(text: str) -> str:
    """Drop whitespace outside string literals: EventBridge delivers JSON minified."""
    out: list[str] = []
    in_string = escaped = False
    for char in text:
        if escaped:
            escaped = False
        elif in_string and char == "\\":
            escaped = True
        elif char == '"':
            in_string = not in_string
        elif not in_string and char in _JSON_WHITESPACE:
            continue
        out.append(char)
    return "".join(out)


def _select(path: JsonPath, event: dict[str, Any]) -> Any:
    matches = path.find(event)
    if path.has_wildcard:
        return matches
    return matches[0] if matches else _MISSING


def _dumps(value: Any) -> str:
    # UTF-8 text rather than \u escapes, so Japanese titles stay readable at the target.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _loads(text: str) -> Any:
    """Strict JSON: NaN and Infinity are not JSON."""
    return json.loads(text, parse_constant=_refuse_constant)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _rename(data: Mapping[str, Any], keys: Mapping[str, str], where: str) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in data.items():
        if (field := keys.get(key[:1].upper() + key[1:])) is None:
            raise InvalidInputTransform(f"unknown key {key!r} in {where}; expected {sorted(keys)}")
        if field in fields:
            raise InvalidInputTransform(f"{key!r} given twice in {where}")
        fields[field] = value
    return fields


def _optional_str(value: Any, where: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidInputTransform(f"{where} must be a string")
    return value
