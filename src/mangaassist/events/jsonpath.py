"""The JSONPath subset EventBridge accepts in ``InputPath`` and ``InputPathsMap``.

EventBridge documents dot notation with letters, digits, ``_``, ``-`` and ``/`` in names, array
indexes and wildcards. Bracket-quoted names (``$['detail-type']``) are accepted too, for keys
dot notation cannot spell. Recursive descent, filters, slices, unions and negative indexes are
refused when the path is parsed, so a bad rule fails at creation and never at delivery.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

__all__ = ["WILDCARD", "InvalidJsonPath", "JsonPath", "parse_path"]


class InvalidJsonPath(ValueError):  # noqa: N818 - named like InvalidEvent
    """A path outside the supported subset."""


class _Wildcard(enum.Enum):
    ANY = "*"


#: A ``*`` step: every value of an object, every item of an array.
WILDCARD: Final = _Wildcard.ANY

Step = str | int | _Wildcard

_STEP = re.compile(
    r"""\.(?P<name>[\w\-/]+)
      | \.\*
      | \[\*\]
      | \[(?P<index>0|[1-9][0-9]*)\]
      | \['(?P<single>(?:[^'\\]|\\.)*)'\]
      | \["(?P<double>(?:[^"\\]|\\.)*)"\]""",
    re.VERBOSE,
)
_ESCAPE = re.compile(r"\\(.)")


@dataclass(frozen=True, slots=True)
class JsonPath:
    """A parsed path: object keys (``str``), array indexes (``int``) and wildcards."""

    text: str
    steps: tuple[Step, ...]

    @property
    def has_wildcard(self) -> bool:
        """Whether the path can select several values (they are then delivered as an array)."""
        return WILDCARD in self.steps

    def find(self, document: Any) -> list[Any]:
        """Every value the path selects, in document order; empty when it selects nothing."""
        current = [document]
        for step in self.steps:
            found: list[Any] = []
            for node in current:
                if step is WILDCARD:
                    if isinstance(node, dict):
                        found.extend(node.values())
                    elif isinstance(node, list):
                        found.extend(node)
                elif isinstance(step, str):
                    if isinstance(node, dict) and step in node:
                        found.append(node[step])
                elif isinstance(node, list) and step < len(node):
                    found.append(node[step])
            current = found
        return current


@lru_cache(maxsize=512)
def parse_path(text: str) -> JsonPath:
    """Parse ``text``; raises ``InvalidJsonPath`` naming the first unsupported part."""
    if not text.startswith("$"):
        raise InvalidJsonPath(f"JSONPath {text!r} must start with '$'")
    steps: list[Step] = []
    position = 1
    while position < len(text):
        match = _STEP.match(text, position)
        if match is None:
            raise InvalidJsonPath(
                f"unsupported JSONPath {text!r} at {text[position:]!r}: only .name, .*, [index],"
                " [*] and ['name'] are supported (no '..', filters, slices or negative indexes)"
            )
        if (name := match["name"]) is not None:
            steps.append(name)
        elif (index := match["index"]) is not None:
            steps.append(int(index))
        elif (quoted := match["single"]) is not None or (quoted := match["double"]) is not None:
            steps.append(_ESCAPE.sub(r"\1", quoted))
        else:
            steps.append(WILDCARD)
        position = match.end()
    return JsonPath(text, tuple(steps))
