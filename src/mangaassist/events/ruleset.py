"""The rules of a bus, indexed so an event is tested only against rules that can match it.

Most rules name their sources exactly (``"source": ["mangaassist.payments"]``): those are
filed under each source, and an event is tried against its source's rules plus the rules whose
source condition is anything else (a prefix, no condition at all). Matching stays a full
pattern match; the index only skips rules that could not match.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mangaassist.events.rules import Rule

__all__ = ["RuleSet"]


def _exact_sources(rule: Rule) -> list[str] | None:
    """The sources a rule can match when it lists only plain strings, else None."""
    if "$or" in rule.pattern:
        return None
    condition = rule.pattern.get("source")
    if not isinstance(condition, list) or not condition:
        return None
    if all(isinstance(value, str) for value in condition):
        return [str(value) for value in condition]
    return None


class RuleSet:
    """An immutable set of rules by name, with the source index."""

    def __init__(self, rules: Iterable[Rule] = ()) -> None:
        self.rules: dict[str, Rule] = {rule.name: rule for rule in rules}
        self._by_source: dict[str, list[Rule]] = {}
        self._anywhere: list[Rule] = []
        for rule in self.rules.values():
            if not rule.enabled:
                continue
            sources = _exact_sources(rule)
            if sources is None:
                self._anywhere.append(rule)
                continue
            for source in dict.fromkeys(sources):
                self._by_source.setdefault(source, []).append(rule)

    def __len__(self) -> int:
        return len(self.rules)

    def matching(self, event: dict[str, Any], only: Iterable[str] | None = None) -> list[Rule]:
        """The enabled rules matching ``event`` (``Event.to_dict()`` form), in name order;
        ``only`` limits them to those names (a replay to some rules)."""
        source = event.get("source")
        candidates = self._by_source.get(source, []) if isinstance(source, str) else []
        wanted = None if only is None else set(only)
        found = [
            rule
            for rule in (*candidates, *self._anywhere)
            if (wanted is None or rule.name in wanted) and rule.matcher.matches(event)
        ]
        return sorted(found, key=lambda rule: rule.name)
