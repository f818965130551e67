"""The rule book: built-in rules, then the rules file, then rules saved through the admin API.

A later source replaces a rule of the same name from an earlier one, so an operator can change
or disable (``"state": "DISABLED"``) a built-in rule without editing code, and deleting the
saved rule brings the built-in back. Saved rules live in the store; every process reloads them
every few seconds, so a rule changed through one API process reaches all of them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog

from mangaassist.events.rules import (
    InvalidRuleError,
    Rule,
    TargetKind,
    rule_from_config,
    rules_from_file_data,
)
from mangaassist.events.ruleset import RuleSet
from mangaassist.store.base import EventStore

__all__ = ["RuleBook", "load_rules_file"]

log = structlog.get_logger("mangaassist.events")


def load_rules_file(path: Path) -> list[Rule]:
    """The rules of a JSON rules file (``{"rules": [...]}``); raises ``InvalidRuleError``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidRuleError("EVENT_RULES_FILE_INVALID", f"{path}: {exc}") from None
    return rules_from_file_data(data)


class RuleBook:
    """The current rules of this process."""

    def __init__(
        self,
        store: EventStore,
        *,
        builtin: Sequence[Rule] = (),
        configured: Sequence[Rule] = (),
        handler_names: Callable[[], list[str]] = list,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._base = {rule.name: rule for rule in (*builtin, *configured)}
        self._handler_names = handler_names
        self._clock = clock
        self._saved: dict[str, Rule] = {}
        self._rules = RuleSet(self._base.values())

    def current(self) -> RuleSet:
        """The rules in force now."""
        return self._rules

    def get(self, name: str) -> Rule | None:
        """A rule in force, by name."""
        return self._rules.rules.get(name)

    def check(self, rule: Rule) -> None:
        """Refuse a rule naming a handler this process does not have."""
        known = set(self._handler_names())
        for target in rule.targets:
            if target.kind is TargetKind.HANDLER and target.destination not in known:
                raise InvalidRuleError(
                    "EVENT_TARGET_UNKNOWN_HANDLER",
                    f"target {target.id}: no handler {target.destination!r} "
                    f"(known: {', '.join(sorted(known)) or 'none'})",
                )

    async def reload(self) -> None:
        """Read the saved rules again; a saved rule that no longer parses is skipped, loudly."""
        saved: dict[str, Rule] = {}
        for stored in await self._store.list_event_rules():
            try:
                saved[stored.name] = rule_from_config(stored.config, origin="api")
            except InvalidRuleError as exc:
                log.error("event_rule_unusable", rule=stored.name, error=exc.reason)
        self._saved = saved
        self._rules = RuleSet({**self._base, **saved}.values())

    async def put(self, config: Mapping[str, Any]) -> tuple[Rule, bool]:
        """Check, save and apply a rule; True when it is new to the store."""
        rule = rule_from_config(config, origin="api")
        self.check(rule)
        created = await self._store.put_event_rule(rule.name, dict(rule.config), now=self._clock())
        await self.reload()
        return rule, created

    async def delete(self, name: str) -> bool:
        """Delete a saved rule (a built-in or file rule of that name comes back)."""
        deleted = await self._store.delete_event_rule(name)
        await self.reload()
        return deleted

    async def run_refresher(self, interval_s: float) -> None:
        """Reload every ``interval_s`` until cancelled (other processes' admin changes)."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.reload()
            except Exception:  # the store is down: keep the rules we have
                log.warning("event_rules_reload_failed", exc_info=True)
