"""The rules of a bus, indexed so an event is tested only against rules that can match it.

Most rules name their sources exactly (``"source": ["mangaassist.payments"]``), and most of
those their detail-types too: such rules are filed under each (source, detail-type), and an
event is tried against the rules of its source and detail-type, of its source and any
detail-type, and the rules whose source condition is anything else (a prefix, none at all).
Matching stays a full pattern match; the index only skips rules that could not match.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mangaassist.events.rules import Rule

__all__ = ["RuleSet"]


def _exact(rule: Rule, field: str) -> list[str] | None:
    """The values of a top-level field a rule can match when its condition lists only plain
    strings, else None."""
    if "$or" in rule.pattern:
        return None
    condition = rule.pattern.get(field)
    if not isinstance(condition, list) or not condition:
        return None
    if all(isinstance(value, str) for value in condition):
        return [str(value) for value in condition]
    return None


class RuleSet:
    """An immutable set of rules by name, with the source index."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: dict[str, Rule] = {rule.name: rule for rule in rules}
        # source -> detail-type -> rules; detail-type "" holds rules of any detail-type.
        self._by_source: dict[str, dict[str, list[Rule]]] = {}
        self._anywhere: list[Rule] = []
        for rule in self.rules.values():
            if not rule.enabled:
                continue
            sources = _exact(rule, "source")
            if sources is None:
                self._anywhere.append(rule)
                continue
            detail_types = _exact(rule, "detail-type") or [""]
            for source in dict.fromkeys(sources):
                by_type = self._by_source.setdefault(source, {})
                for detail_type in dict.fromkeys(detail_types):
                    by_type.setdefault(detail_type, []).append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def matching(self, event: dict[str, Any], only: Iterable[str] | None = None) -> list[Rule]:
        """The enabled rules matching ``event`` (``Event.to_dict()`` form), in name order;
        ``only`` limits them to those names (a replay to some rules)."""
        source = event.get("source")
        by_type = self._by_source.get(source) if isinstance(source, str) else None
        candidates: list[Rule] = []
        if by_type is not None:
            detail_type = event.get("detail-type")
            candidates = by_type.get("", [])
            if isinstance(detail_type, str) and detail_type in by_type:
                candidates = [*candidates, *by_type[detail_type]]
        wanted = None if only is None else set(only)
        found = [
            rule
            for rule in (*candidates, *self._anywhere)
            if (wanted is None or rule.name in wanted) and rule.matcher.matches(event)
        ]
        return sorted(found, key=lambda rule: rule.name)
